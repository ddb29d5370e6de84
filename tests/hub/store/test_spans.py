"""The dashboard's headline totals read for every period in one statement
(:func:`hub.store.spans.scores_of_spans`, :func:`hub.report.unit_totals_of_spans`) equal each
period read alone (:func:`hub.report.unit_totals` and the per-score counts): whole months, whole
days, cut days, open bounds, a period without ratings, all in one call, in the order asked; and
no period at all. SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from hailong.settings import Unit
from hub.report import Scope, counts, unit_totals, unit_totals_of_spans
from hub.store.db import make_engine, session_factory
from hub.store.ratings import store_batch
from hub.store.spans import scores_of_spans
from tests.hub.test_report_months import NOW, PERIODS, _local, _moments, _rated

SPANS: list[tuple[datetime | None, datetime | None]] = [
    *PERIODS.values(),
    (_local(2025, 1, 1), _local(2025, 4, 1)),  # no ratings
    (_local(2026, 12, 1), _local(2027, 1, 1)),  # the same period twice
]


def test_every_period_at_once_equals_each_alone(database_url: str, unit: Unit) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    items = [_rated(i, at) for i, at in enumerate(_moments())]
    for start in range(0, len(items), 100):
        with sessions.begin() as session:
            store_batch(session, items[start : start + 100], NOW)
    with sessions() as session:
        alone = [counts(session, Scope(unit, since, until), "score") for since, until in SPANS]
        expected = [Counter({score: n for (score,), n in c.items()}) for c in alone]
        assert scores_of_spans(session, unit.unit.code, SPANS, unit.zone) == expected
        totals = [unit_totals(session, Scope(unit, since, until)) for since, until in SPANS]
        assert unit_totals_of_spans(session, unit, SPANS) == totals
        assert totals[0][0] > 0
        assert totals[-2] == (0, 0)
        reversed_spans = SPANS[::-1]
        assert unit_totals_of_spans(session, unit, reversed_spans) == totals[::-1]
        assert unit_totals_of_spans(session, unit, []) == []
    engine.dispose()
