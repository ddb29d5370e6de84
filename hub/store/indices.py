"""Reading what the official indices need (:mod:`hub.domain.indices`): the dossiers one or more
units received in a period, each with its counted ratings.

One query: the receipt register joined (outer) to the counted ratings of the same unit and code,
so a dossier nobody rated is still a dossier (it counts in Decision 766's denominator and has its
processing time) and no dossier costs a query of its own. Only what the arithmetic needs is read:
never the citizen's name or contact, the comment or the call-back phone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, tzinfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from hailong.contract.clock import UNIT_ZONE, unit_day
from hub.domain.indices import DossierFacts, RatingFacts
from hub.store.models import RatingRow, ReceiptRow


def dossier_facts(
    session: Session,
    units: Sequence[str],
    start: datetime,
    end: datetime,
    zone: tzinfo = UNIT_ZONE,
) -> dict[str, list[DossierFacts]]:
    """Per unit code (each of ``units``, empty lists included), the dossiers received from
    ``start`` (included) to ``end`` (excluded), by dossier code. Days (received, returned) are on
    the unit's calendar, ``zone``, as the promised day is."""
    query = (
        select(
            ReceiptRow.unit,
            ReceiptRow.dossier_code,
            ReceiptRow.officer,
            ReceiptRow.issued_at,
            ReceiptRow.promised_on,
            ReceiptRow.returned_at,
            ReceiptRow.returned_by,
            RatingRow.officer,
            RatingRow.score,
            RatingRow.factors,
            RatingRow.not_applicable,
        )
        .outerjoin(
            RatingRow,
            and_(
                RatingRow.unit == ReceiptRow.unit,
                RatingRow.dossier_code == ReceiptRow.dossier_code,
                RatingRow.counted.is_(True),
            ),
        )
        .where(
            ReceiptRow.unit.in_(list(units)),
            ReceiptRow.issued_at >= start,
            ReceiptRow.issued_at < end,
        )
        .order_by(ReceiptRow.unit, ReceiptRow.dossier_code)
    )
    heads: dict[tuple[str, str], DossierFacts] = {}
    rated: dict[tuple[str, str], list[RatingFacts]] = defaultdict(list)
    for row in session.execute(query):
        unit, code, officer, issued_at, promised_on, returned_at, returned_by = row[:7]
        key = (unit, code)
        if key not in heads:
            heads[key] = DossierFacts(
                code=code,
                unit=unit,
                officer=officer,
                received_on=unit_day(issued_at, zone),
                promised_on=promised_on,
                returned_on=unit_day(returned_at, zone) if returned_at is not None else None,
                returned_by=returned_by,
            )
        rated_officer, score, factors, not_applicable = row[7:]
        if score is not None:
            facts = RatingFacts(
                rated_officer, score, dict(factors or {}), frozenset(not_applicable or ())
            )
            rated[key].append(facts)
    out: dict[str, list[DossierFacts]] = {code: [] for code in units}
    for key, head in heads.items():
        out[key[0]].append(replace(head, ratings=tuple(rated.get(key, ()))))
    return out
