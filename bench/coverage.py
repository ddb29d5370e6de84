"""How long the coverage reads take on a big register: counted from the coverage rollups
(revision 0015, what the hub reads now) and counted from ``receipts`` by the ``GROUP BY`` they
replaced (revision 0014's index on ``receipts (unit, issued_at)``) (issue 17).

    python bench/coverage.py [--units 20] [--receipts 50000] [--database-url URL]

Fills a fresh database (a temp SQLite file by default; with ``--database-url`` an empty
PostgreSQL database) with ``--units`` units of ``--receipts`` receipts each over a year (60 % rated
at the reception, 10 % abandoned) with bulk inserts, then counts them into the rollups as
revision 0015's data step does (:func:`hub.store.coverage.rebuild_coverage`, timed), then times,
median of 5 runs: one unit's coverage for a month, a quarter and a year
(:func:`hub.coverage.coverage_report`); what the dashboard asks for one page view (the five
headline periods, :func:`hub.coverage.spans_coverage`, and the selected month's tables); and every
unit at once for a quarter (:func:`hub.coverage.units_coverage`, the province view). Each read
beside the same figures counted from the register (:func:`hub.store.coverage.register_tallies`,
:func:`~hub.store.coverage.register_by_unit`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

START = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)  # 08:00 on 1 January in Hà Nội


def fill(url: str, units: list[str], per_unit: int) -> None:
    from sqlalchemy import insert

    from hub.store.coverage import rebuild_coverage
    from hub.store.db import make_engine, session_factory
    from hub.store.models import AbandonedSessionRow, RatingRow, ReceiptRow

    engine = make_engine(url)
    step = timedelta(days=365) / per_unit
    with engine.begin() as connection:
        for unit in units:
            receipts, ratings, left = [], [], []
            for i in range(per_unit):
                at = START + step * i
                code = f"{unit}-{at:%y%m%d}-{i:07d}"
                receipts.append(
                    {
                        "dossier_code": code, "unit": unit, "procedure": f"1.00{i % 10}",
                        "counter": f"Q{i % 3}", "officer": f"CB00{i % 5}", "key_id": "k1",
                        "url": "https://hub/r", "issued_at": at, "printed": True,
                        "origin": "issued", "return_announced": False,
                    }
                )  # fmt: skip
                if i % 10 < 6:
                    ratings.append(
                        {
                            "id": str(uuid.uuid4()), "unit": unit, "kiosk": "k", "seq": i,
                            "dossier_code": code, "receipt_verified": True,
                            "receipt_known": True, "stage": "reception", "score": 4,
                            "reasons": [], "factors": {}, "lang": "vi", "channel": "kiosk",
                            "rated_at": at, "received_at": at, "counted": True,
                            "suspect": False,
                        }
                    )  # fmt: skip
                elif i % 10 == 6:
                    left.append(
                        {
                            "id": str(uuid.uuid4()), "unit": unit, "kiosk": "k", "seq": i,
                            "dossier_code": code, "receipt_verified": True,
                            "receipt_known": True, "stage": "reception", "reason": "timeout",
                            "scanned_at": at, "ended_at": at, "received_at": at,
                        }
                    )  # fmt: skip
            connection.execute(insert(ReceiptRow), receipts)
            connection.execute(insert(RatingRow), ratings)
            connection.execute(insert(AbandonedSessionRow), left)
    began = time.perf_counter()
    with session_factory(engine).begin() as session:
        rebuild_coverage(session)  # the bulk inserts went around the writers
    print(f"counted into the coverage rollups in {time.perf_counter() - began:.1f} s")
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def median_ms(action: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append(1000 * (time.perf_counter() - began))
    return statistics.median(times)


def measure(url: str, units: list[str]) -> list[tuple[str, float, float]]:
    """Each read's median in ms: from the rollups, and from the register."""
    from hailong.settings.unit import load_unit
    from hub.coverage import coverage_report, spans_coverage, units_coverage
    from hub.domain.periods import PERIODS, period
    from hub.domain.units import UnitNode
    from hub.store.coverage import register_by_unit, register_tallies
    from hub.store.db import make_engine, session_factory
    from hub.store.rollups import Scope

    unit = load_unit(REPO / "config" / "unit.toml")
    code = units[0]
    unit = unit.model_copy(update={"unit": unit.unit.model_copy(update={"code": code})})
    sessions = session_factory(make_engine(url))
    today = datetime(2026, 11, 25).date()
    nodes = [UnitNode(c, c) for c in units]
    found = []
    with sessions() as session:
        for kind in ("month", "quarter", "year"):
            since, until = period(kind, today).bounds()

            def rolled() -> object:
                return coverage_report(session, Scope(unit, since, until))  # noqa: B023

            def counted() -> object:
                return register_tallies(session, code, since, until)  # noqa: B023

            found.append((f"one unit, {kind}", median_ms(rolled), median_ms(counted)))
        spans = [period(kind, today).bounds() for kind in PERIODS]
        month = period("month", today).bounds()

        def page() -> None:
            spans_coverage(session, unit, spans)
            coverage_report(session, Scope(unit, *month))

        def page_from_register() -> None:
            for span in spans:
                register_by_unit(session, [code], *span)
            register_tallies(session, code, *month)

        found.append(
            ("dashboard page (5 headlines + month)", median_ms(page), median_ms(page_from_register))
        )
        quarter = period("quarter", today).bounds()
        found.append(
            (
                f"{len(units)} units, quarter",
                median_ms(lambda: units_coverage(session, nodes, *quarter)),
                median_ms(lambda: register_by_unit(session, units, *quarter)),
            )
        )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--receipts", type=int, default=50_000, help="per unit, over a year")
    parser.add_argument("--database-url", help="an empty database (default: a temp SQLite file)")
    args = parser.parse_args()
    if args.database_url:
        return run(args.database_url, args.units, args.receipts)
    with tempfile.TemporaryDirectory() as folder:  # ~0.5 GB for the default sizes
        return run(f"sqlite:///{folder}/coverage.db", args.units, args.receipts)


def run(url: str, count: int, per_unit: int) -> int:
    units = [f"000.00.{20 + i:02d}.H41" for i in range(count)]
    began = time.perf_counter()
    fill(url, units, per_unit)
    print(f"filled {count} × {per_unit} receipts in {time.perf_counter() - began:.0f} s")
    print(f"{'read':<40} {'rollups':>10} {'register':>10}  (median of 5, ms)")
    for name, rolled, counted in measure(url, units):
        print(f"{name:<40} {rolled:>10.1f} {counted:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
