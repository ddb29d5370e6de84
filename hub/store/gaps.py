"""Finding the seqs each kiosk sent that the hub never stored (see :mod:`hub.domain.gaps`).

One window query over ``ratings`` returns only the holes (a row whose next seq skips numbers) and
each kiosk's last row (with its lowest seq, since a hole before the first counts too), never every
seq: a kiosk's whole history can be millions of ratings. Both run in one statement, so a rating
stored meanwhile cannot make the holes and the bounds disagree. Works on SQLite (3.25+) and
PostgreSQL. Refused ratings arrived all the same: the dead letters of the kiosks with holes are
read, and their seqs taken out of the holes. A kiosk numbers its abandoned sessions in the same
sequence as its ratings (``abandoned_sessions``), so the query reads both tables as one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import func, or_, select, union_all
from sqlalchemy.orm import Session

from hailong.contract import topics
from hub.domain.gaps import MAX_RANGES, KioskGaps, KioskKey, SeqRange, kiosk_gaps
from hub.store.models import AbandonedSessionRow, DeadLetterRow, KioskStatusRow, RatingRow


def find_gaps(
    session: Session,
    unit: str | None = None,
    *,
    pending_from: Mapping[KioskKey, int] | None = None,
    max_ranges: int | None = MAX_RANGES,
) -> list[KioskGaps]:
    """Each kiosk that has stored ratings (of ``unit``, or of every unit), with what it is
    missing, sorted by unit and kiosk. ``pending_from``: the oldest seq each kiosk still holds in
    its outbox (those seqs are late, not lost); by default what each kiosk's last status said."""
    if pending_from is None:
        pending_from = pending_seqs(session, unit)
    parts = []
    for table in (RatingRow, AbandonedSessionRow):
        part = select(table.unit, table.kiosk, table.seq)
        parts.append(part.where(table.unit == unit) if unit is not None else part)
    numbered = union_all(*parts).subquery()
    kiosk = (numbered.c.unit, numbered.c.kiosk)
    seq = numbered.c.seq
    ordered = select(
        numbered.c.unit,
        numbered.c.kiosk,
        seq,
        func.lead(seq).over(partition_by=kiosk, order_by=seq).label("next"),
        # The default frame ends at the current row: the first seq, i.e. the lowest, with the
        # same window as LEAD, so the database sorts once.
        func.min(seq).over(partition_by=kiosk, order_by=seq).label("lowest"),
    )
    rows = ordered.subquery()
    query = (
        select(rows.c.unit, rows.c.kiosk, rows.c.seq, rows.c.next, rows.c.lowest)
        .where(or_(rows.c.next.is_(None), rows.c.next > rows.c.seq + 1))
        .order_by(rows.c.unit, rows.c.kiosk, rows.c.seq)
    )
    holes: dict[KioskKey, list[SeqRange]] = defaultdict(list)
    highest: dict[KioskKey, int] = {}
    for row in session.execute(query):
        key = (row.unit, row.kiosk)
        if row.next is None:  # the kiosk's last stored rating
            highest[key] = row.seq
            if row.lowest > 1:
                holes[key].insert(0, SeqRange(1, row.lowest - 1))
        else:
            holes[key].append(SeqRange(row.seq + 1, row.next - 1))
    arrived = _dead_letter_seqs(session, holes)
    return [
        kiosk_gaps(
            *key,
            holes.get(key, ()),
            highest[key],
            arrived=arrived.get(key, ()),
            pending_from=pending_from.get(key),
            max_ranges=max_ranges,
        )
        for key in sorted(highest)
    ]


def pending_seqs(session: Session, unit: str | None = None) -> dict[KioskKey, int]:
    """The oldest seq still in each kiosk's outbox, from its last status (a kiosk that does not
    report it, or has an empty outbox, is absent)."""
    query = select(KioskStatusRow.unit, KioskStatusRow.kiosk, KioskStatusRow.oldest_pending_seq)
    query = query.where(KioskStatusRow.oldest_pending_seq.is_not(None))
    if unit is not None:
        query = query.where(KioskStatusRow.unit == unit)
    return {(row.unit, row.kiosk): row.oldest_pending_seq for row in session.execute(query)}


def _dead_letter_seqs(
    session: Session, holes: Mapping[KioskKey, list[SeqRange]]
) -> dict[KioskKey, set[int]]:
    """The seqs of the dead letters that fall in ``holes``, per kiosk.

    The seq is the one the hub read when it refused the payload (``dead_letters.seq``): the payload
    itself may be kept only in part. The topic says whose rating it is (the broker's ACL vouches
    for it, the payload may be what was refused); a topic that does not parse as a kiosk's
    ratings topic says nothing."""
    wanted = {topics.ratings(unit, kiosk) for unit, kiosk in holes if holes[(unit, kiosk)]}
    found: dict[KioskKey, set[int]] = defaultdict(set)
    if not wanted:
        return found
    query = (
        select(DeadLetterRow.topic, DeadLetterRow.seq)
        .where(DeadLetterRow.topic.in_(sorted(wanted)), DeadLetterRow.seq.is_not(None))
        .execution_options(yield_per=500)
    )
    for topic, seq in session.execute(query):
        try:
            parsed = topics.parse_kiosk_topic(topic)
        except topics.TopicError:
            continue
        key = (parsed.unit, parsed.kiosk)
        if parsed.kind != "ratings" or key not in holes or seq is None:
            continue
        spans = holes[key]
        at = bisect_right(spans, seq, key=lambda span: span.first) - 1
        if at >= 0 and seq <= spans[at].last:
            found[key].add(seq)
    return found
