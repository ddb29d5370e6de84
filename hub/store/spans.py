"""A unit's counted ratings per score in several periods at once: the dashboard's ten headline
totals (today, this week, month, quarter and year, and the period before each).

Each period read alone is one to three small queries over the smallest rollup (the channel
rollups): the database's part is well under a millisecond, the statement's round trip and the
driver's work around it ~1 ms. A provincial centre's dashboard paid that ~14 times (~12 ms of
its 100 ms budget, bench/province.py); here every period's parts go in one ``UNION ALL``, each
row tagged with its period. A period with a cut day (bounds not on local midnight: an API
caller's) is read as :func:`hub.store.rollups.counts` reads it, the sums being the same.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import func, literal_column, select, union_all
from sqlalchemy.orm import Session

from hub.store.rollups import LOCAL_ZONE, Plan, _family, counts_of_units


def scores_of_spans(
    session: Session,
    unit: str,
    spans: Sequence[tuple[datetime | None, datetime | None]],
    zone: tzinfo = LOCAL_ZONE,
) -> list[Counter[int]]:
    """The counted ratings of ``unit`` per score in each ``[since, until)`` of ``spans``, in
    that order: what ``counts(session, Scope(unit, since, until), "score")`` gives each, keyed
    by the score alone, from one statement for all the periods without a cut day."""
    family = _family(("score",), None)
    found: list[Counter[int]] = [Counter() for _ in spans]
    pieces: list[Any] = []
    for at, (since, until) in enumerate(spans):
        plan = Plan.split(since, until, zone)
        if plan.edges:  # a cut day: counted from the ratings, as counts() does
            cut = counts_of_units(session, [unit], since, until, "score", zone=zone)[unit]
            found[at] = Counter({score: n for (score,), n in cut.items()})
            continue
        for table, when in plan.parts(family):
            t = table.__table__
            pieces.append(
                select(literal_column(str(at)).label("span"), t.c.score, func.sum(t.c.n).label("n"))
                .where(t.c.unit == unit, when)
                .group_by(t.c.score)
            )
    if pieces:
        query: Any = union_all(*pieces) if len(pieces) > 1 else pieces[0]
        for at, score, n in session.connection().execute(query):
            if n is not None:
                found[at][score] += int(n)
    return found
