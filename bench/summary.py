"""Report latency on a large hub database: ``hub.report.summary`` per counter, officer and
procedure for one quarter, read from the rollups, against a plain GROUP BY over raw ``ratings``.

    python bench/summary.py [--quick] [--ratings N] [--units U] [--repeat R] [--dir DIR [--reuse]]

Full-size runs take minutes of both CPUs: serialise them with the other benchmarks,
``flock /tmp/hailong-bench.lock .venv/bin/python bench/summary.py``.

The data set (10,000,000 ratings by default, over the working days of 2023-01-02..2025-12-31, for
50 units of one province) is written with bulk SQL, not through the ORM: each chunk of ratings is
one ``INSERT ... SELECT`` from a recursive CTE that draws every value with SQLite's ``random()``,
followed in the same transaction by the rollups of exactly those rows, counted with the same
``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`` that ``store_batch`` uses. Before any
timing the run checks that (1) the rollups of a sample equal what
:func:`hub.store.rollups.add_to_rollups` writes for the same ratings, and (2) the quarter's summary
equals the raw GROUP BY counts.

* rollups: ``hub.report.summary(session, Scope(unit, since, until), dimension)``, bounds of the
  dashboard's quarter (local midnights, so whole days only: the rollups alone are read).
* baseline: ``SELECT <dimension>, score, count(*) FROM ratings WHERE unit = ? AND rated_at >= ? AND
  rated_at < ? GROUP BY <dimension>, score`` (through ``ix_ratings_unit_rated_at``), folded by the
  same :func:`hub.domain.satisfaction.summarize`: what the report cost before the rollups.
* informational: the same quarter with the bounds ``hailong report summary --since/--until`` passes
  (UTC midnights), which adds two partial days read from ``ratings``.

Each (unit, dimension) pair is called ``--repeat`` times after two warm-up calls, in one session
per pair, on the engine the hub uses (``hub.store.db.make_engine``: WAL, default page cache). The
database file is in the OS page cache (it was just written or read): these are warm figures.
"""

from __future__ import annotations

import argparse
import functools
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import _common

if TYPE_CHECKING:
    from sqlalchemy import Engine, Select
    from sqlalchemy.orm import Session

    from hailong.settings import Unit
    from hub.domain.satisfaction import GroupSummary
    from hub.report import Dimension
from dataset import (
    END_DAY,
    FIRST_DAY,
    MEASURED_UNITS,
    database_dir,
    measured_units,
    plan_units,
    prepare,
    print_generation,
    working_days,
)

GOAL_P95_MS = 50.0
DIMENSIONS: tuple[Dimension, ...] = ("counter", "officer", "procedure")
QUARTER_DAY = date(2025, 12, 1)  # the measured quarter is the one holding this day (the last)


# -- the checks ------------------------------------------------------------------------------------


class CheckFailed(Exception):
    """The data set or the report disagrees with the hub's own code: no figure would mean a thing."""


def quarter_bounds() -> tuple[datetime, datetime]:
    """The dashboard's quarter (local midnights), as the web page passes it."""
    from hub.domain.periods import period

    return period("quarter", QUARTER_DAY).bounds()


def cli_bounds() -> tuple[datetime, datetime]:
    """The same quarter as ``hailong report summary --since --until`` passes it (UTC midnights)."""
    since, until = quarter_bounds()
    return (
        datetime.combine(since.date(), datetime.min.time(), UTC),
        datetime.combine(until.date(), datetime.min.time(), UTC),
    )


def utc(moment: datetime) -> datetime:
    """SQLite stores naive UTC text and SQLAlchemy writes an aware bound's wall clock as it is:
    a local midnight must be turned to UTC before it is compared with ``rated_at``."""
    return moment.astimezone(UTC)


def raw_query(unit: Unit, dimension: Dimension, since: datetime, until: datetime) -> Select[Any]:
    """The baseline: a plain GROUP BY over ``ratings`` (the index on unit and time does the rest)."""
    from sqlalchemy import func, select

    from hub.store.models import RatingRow

    column = getattr(RatingRow, dimension)
    return (
        select(column, RatingRow.score, func.count())
        .where(
            RatingRow.unit == unit.unit.code,
            RatingRow.rated_at >= utc(since),
            RatingRow.rated_at < utc(until),
        )
        .group_by(column, RatingRow.score)
    )


def raw_summary(
    session: Session, unit: Unit, dimension: Dimension, since: datetime, until: datetime
) -> list[GroupSummary]:
    """What ``summary`` did before the rollups: the same fold, over the raw counts."""
    from hub.domain.satisfaction import summarize

    rows = session.execute(raw_query(unit, dimension, since, until))
    return summarize(((key, int(score), int(n)) for key, score, n in rows), {})


def _by_key(groups: Sequence[GroupSummary]) -> dict[str | None, tuple[int, int]]:
    return {g.key: (g.n, g.satisfied) for g in groups}


def check_summary_matches_raw(
    session: Session, unit: Unit, since: datetime, until: datetime
) -> str:
    """Each dimension's n and satisfied per group, rollups against the raw GROUP BY, and the
    total against a plain count of the unit's ratings in the period."""
    from sqlalchemy import func, select

    from hub.report import Scope, summary
    from hub.store.models import RatingRow

    total = session.scalar(
        select(func.count()).where(
            RatingRow.unit == unit.unit.code,
            RatingRow.rated_at >= utc(since),
            RatingRow.rated_at < utc(until),
        )
    )
    for dimension in DIMENSIONS:
        rolled = _by_key(summary(session, Scope(unit, since, until), dimension))
        raw = _by_key(raw_summary(session, unit, dimension, since, until))
        if rolled != raw:
            raise CheckFailed(f"{unit.unit.code} {dimension}: rollups {rolled} != raw {raw}")
        if sum(n for n, _ in rolled.values()) != total:
            raise CheckFailed(f"{unit.unit.code} {dimension}: n differs from count(*) = {total}")
    return f"{len(DIMENSIONS)} dimensions, n={total}"


def check_rollups_match_store(session: Session, unit: Unit, days: int = 3) -> str:
    """The first ``days`` local days of the quarter for one unit: the generated rollup rows equal
    those :func:`hub.store.rollups.add_to_rollups` writes for the same ratings (all four tables)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session as OrmSession

    from hub.store.db import make_engine
    from hub.store.models import (
        FactorRollupRow,
        HourRollupRow,
        RatingRollupRow,
        RatingRow,
        ReasonRollupRow,
    )
    from hub.store.rollups import add_to_rollups

    since, _ = quarter_bounds()
    until = since + timedelta(days=days)
    code = unit.unit.code
    rows = list(
        session.scalars(
            select(RatingRow).where(
                RatingRow.unit == code,
                RatingRow.rated_at >= utc(since),
                RatingRow.rated_at < utc(until),
            )
        )
    )
    if not rows:
        raise CheckFailed(f"{code}: no ratings from {since} to {until}")
    scratch = make_engine("sqlite://")
    try:
        with OrmSession(scratch) as expected:
            columns = [column.key for column in RatingRow.__table__.columns]
            add_to_rollups(expected, [{c: getattr(row, c) for c in columns} for row in rows])
            for model in (RatingRollupRow, FactorRollupRow, ReasonRollupRow, HourRollupRow):
                table = model.__table__
                want = {tuple(row) for row in expected.execute(select(table))}
                got = {
                    tuple(row)
                    for row in session.execute(
                        select(table).where(
                            table.c.unit == code,
                            table.c.day >= since.date(),
                            table.c.day < until.date(),
                        )
                    )
                }
                # A few days of one unit may hold no dissatisfied rating with a reason; every
                # other table has a row for each rating.
                if want != got or (not want and model is not ReasonRollupRow):
                    raise CheckFailed(f"{model.__tablename__}: {sorted(want ^ got)[:5]} differ")
    finally:
        scratch.dispose()
    return f"{len(rows)} ratings over {days} days"


# -- timing ----------------------------------------------------------------------------------------


@dataclass
class Series:
    name: str
    ms: list[float]

    def p(self, percent: float) -> float:
        return _common.percentile(self.ms, percent)

    def line(self) -> str:
        return (
            f"{self.name}: p50_ms={self.p(50):.2f} p95_ms={self.p(95):.2f} "
            f"max_ms={max(self.ms):.2f} n={len(self.ms)}"
        )


def timed(call: Callable[[], object], repeat: int, warmup: int = 2) -> list[float]:
    """``repeat`` wall-clock times of ``call()`` in ms, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(
    engine: Engine,
    units: Sequence[Unit],
    dimension: Dimension,
    bounds: tuple[datetime, datetime],
    repeat: int,
    *,
    rollups: bool,
) -> list[float]:
    """All timings of one dimension over ``units``, a session per unit as a request would have."""
    from sqlalchemy.orm import Session as OrmSession

    from hub.report import Scope, summary

    times: list[float] = []
    for unit in units:
        with OrmSession(engine) as session:
            run = (
                functools.partial(summary, session, Scope(unit, *bounds), dimension)
                if rollups
                else functools.partial(raw_summary, session, unit, dimension, *bounds)
            )
            times += timed(run, repeat)
    return times


def query_plan(engine: Engine, statement: Select[Any]) -> str:
    """SQLite's plan for ``statement``, one step per ' | '."""
    sql = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        steps = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
    return " | ".join(str(step[-1]) for step in steps)


def rollup_query(unit: Unit, dimension: Dimension, since: datetime, until: datetime) -> Select[Any]:
    """The statement ``summary`` runs for whole days (rebuilt here only to show its plan)."""
    from sqlalchemy import func, select

    from hub.store.models import RatingRollupRow as R
    from hub.store.ratings import LOCAL_ZONE

    column = getattr(R, dimension)
    first, end = since.astimezone(LOCAL_ZONE).date(), until.astimezone(LOCAL_ZONE).date()
    return (
        select(column, R.score, func.sum(R.n))
        .where(R.unit == unit.unit.code, R.day >= first, R.day < end)
        .group_by(column, R.score)
    )


# -- the run ---------------------------------------------------------------------------------------


def run_checks(engine: Engine, unit: Unit) -> None:
    from sqlalchemy.orm import Session as OrmSession

    with OrmSession(engine) as session:
        print(
            f"check rollups = add_to_rollups ({unit.unit.code}, {check_rollups_match_store(session, unit)}): ok"
        )
        since, until = quarter_bounds()
        print(
            f"check summary = raw GROUP BY ({unit.unit.code}, quarter, "
            f"{check_summary_matches_raw(session, unit, since, until)}): ok"
        )
        print(
            f"check summary = raw GROUP BY with UTC-midnight bounds ({unit.unit.code}, "
            f"{check_summary_matches_raw(session, unit, *cli_bounds())}): ok"
        )


def compare(
    engine: Engine, units: Sequence[Unit], repeat: int
) -> tuple[list[Series], list[Series]]:
    """Per dimension: rollups, then the baseline, then the CLI's bounds; returns rollups and
    baseline series (the CLI's figures are informational)."""
    quarter = quarter_bounds()
    rolled_all, raw_all = [], []
    for dimension in DIMENSIONS:
        rolled = Series(
            f"rollups {dimension}", measure(engine, units, dimension, quarter, repeat, rollups=True)
        )
        raw = Series(
            f"baseline {dimension}",
            measure(engine, units, dimension, quarter, repeat, rollups=False),
        )
        cli = Series(
            f"rollups {dimension} with UTC-midnight bounds (informational)",
            measure(engine, units, dimension, cli_bounds(), repeat, rollups=True),
        )
        for series in (rolled, raw, cli):
            print(series.line(), flush=True)
        print(_ratio_line(dimension, rolled, raw))
        rolled_all.append(rolled)
        raw_all.append(raw)
    return rolled_all, raw_all


def _ratio_line(name: str, rolled: Series, raw: Series) -> str:
    return (
        f"ratio rollups/baseline {name}: p50={_common.ratio(rolled.p(50), raw.p(50))} "
        f"p95={_common.ratio(rolled.p(95), raw.p(95))} speedup_p95={_common.ratio(raw.p(95), rolled.p(95))}"
    )


def run_bench(args: argparse.Namespace) -> int:
    from hub.store.db import make_engine

    total = args.ratings or (200_000 if args.quick else 10_000_000)
    repeat = args.repeat or (5 if args.quick else 30)
    plans = plan_units(args.units)
    units = measured_units(plans)
    since, until = quarter_bounds()
    print(
        f"# summary: {total} ratings, {len(plans)} units, working days {FIRST_DAY}..{END_DAY - timedelta(days=1)} "
        f"({working_days()}), SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs"
    )
    with database_dir(args) as root:
        db = root / f"summary-{total}-{len(plans)}.db"
        print(f"# database {db} ({_common.filesystem_of(root)})", flush=True)
        generated = prepare(db, total, plans, args.reuse)
        print_generation(db, generated)
        engine = make_engine(f"sqlite:///{db}")
        try:
            print(
                f"# quarter {since.date()}..{(until - timedelta(days=1)).date()} (local), units "
                f"{', '.join(u.unit.code for u in units)}; {repeat} calls per unit and dimension"
            )
            try:
                run_checks(engine, units[0])
            except CheckFailed as exc:
                print(f"ERROR: check failed: {exc}")
                return 1
            print(
                f"# plan rollups: {query_plan(engine, rollup_query(units[0], 'officer', since, until))}"
            )
            print(
                f"# plan baseline: {query_plan(engine, raw_query(units[0], 'officer', since, until))}"
            )
            rolled, raw = compare(engine, units, repeat)
        finally:
            engine.dispose()
    rolled_all = Series("rollups all", [ms for s in rolled for ms in s.ms])
    raw_all = Series("baseline all", [ms for s in raw for ms in s.ms])
    print(rolled_all.line())
    print(raw_all.line())
    print(_ratio_line("all", rolled_all, raw_all))
    worst = max(rolled, key=lambda s: s.p(95))
    verdict = "met" if worst.p(95) < GOAL_P95_MS else "NOT met"
    print(
        f"goal: p95 < {GOAL_P95_MS:.0f} ms -> {verdict} (worst: {worst.name} p95_ms={worst.p(95):.2f})"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200,000 ratings, 5 calls each")
    parser.add_argument("--ratings", type=int, help="ratings in the data set (default 10,000,000)")
    parser.add_argument("--units", type=int, default=50, help="units in the data set (default 50)")
    parser.add_argument(
        "--repeat", type=int, help="timed calls per unit and dimension (default 30)"
    )
    parser.add_argument("--dir", type=Path, help="keep the database here (default: a temp folder)")
    parser.add_argument(
        "--reuse", action="store_true", help="use the database in --dir if made with these options"
    )
    args = parser.parse_args()
    if args.reuse and args.dir is None:
        parser.error("--reuse needs --dir")
    if args.units < MEASURED_UNITS:
        parser.error(f"--units must be at least {MEASURED_UNITS}")
    _common.sigterm_as_interrupt()
    return run_bench(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
