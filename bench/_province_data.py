"""A province's hub database for the province benchmark: 150 units in a tree (the province's own
public service centre at the top, its departments and communes under it), 1,500 kiosks, each
unit's counters, officers, procedures and fields in the catalogue tables, and three years of
receipts and ratings (50 million at full scale) on PostgreSQL, with their rollups. The province
and the shape of its data are drawn by ``_province_plan.py``; this module writes them.

Written for speed, not through the ORM: the rows are drawn in Python and streamed with
``COPY ... FROM STDIN`` (text format) into ``ratings`` and ``receipts`` emptied in the same
transaction (with ``wal_level=minimal`` PostgreSQL then writes no WAL for them), with their
secondary indexes dropped first and rebuilt after (the very definitions the migrations made, read
back from ``pg_indexes``). The rollups are then counted by SQL, ``INSERT ... SELECT ... GROUP BY``
over the counted ratings, by the same rules as :func:`hub.store.rollups.add_to_rollups` (the
unit's local day and hour, a missing key as ``''``, a reason once per rating); the monthly ones
are summed from the daily ones. :func:`check_rollups` proves the two agree on a generated database
(the smoke test runs it).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import _common
import _pgcluster
from _province_plan import (
    RATING_COLUMNS,
    RECEIPT_COLUMNS,
    SEED,
    ZONE_NAME,
    Counters,
    Province,
    cumulative,
    day_rows,
    days,
    per_day,
)

if TYPE_CHECKING:
    import psycopg

GENERATOR = 2  # bump when the data set changes: a stored database with another number is rebuilt


# -- writing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    seconds: float
    ratings: int
    receipts: int
    rollup_rows: dict[str, int]
    reused: bool = False
    phases: dict[str, float] = field(default_factory=dict)


ROLLUP_TABLES = (
    "rating_rollups",
    "factor_rollups",
    "reason_rollups",
    "hour_rollups",
    "channel_rollups",
    "rating_month_rollups",
    "factor_month_rollups",
    "reason_month_rollups",
    "hour_month_rollups",
    "channel_month_rollups",
    "field_month_rollups",
    "unit_factor_month_rollups",
)  # fmt: skip  (what ROLLUP_SQL fills)


# Filled by the hub's own hub.store.coverage.rebuild_coverage (the receipts' flags too).
COVERAGE_TABLES = (
    "coverage_rollups",
    "coverage_day_rollups",
    "coverage_month_rollups",
    "coverage_unit_month_rollups",
)


def all_rollup_tables() -> tuple[str, ...]:
    """Every rollup table of the hub's models (``*_rollups``): a new one the generator does not
    fill yet is reported, not silently left empty."""
    from hub.store.models import Base

    return tuple(sorted(t for t in Base.metadata.tables if t.endswith("_rollups")))


_LOCAL = f"(r.rated_at AT TIME ZONE '{ZONE_NAME}')"
_KEY = "unit, day, stage, counter, officer, procedure, field"
_KEY_OF = (
    f"r.unit, {_LOCAL}::date, r.stage, coalesce(r.counter, ''), coalesce(r.officer, ''),"
    " coalesce(r.procedure, ''), coalesce(r.field, '')"
)
# The daily rollups of the counted ratings, as add_to_rollups counts them.
ROLLUP_SQL = (
    f"INSERT INTO rating_rollups ({_KEY}, score, n) SELECT {_KEY_OF}, r.score, count(*)"
    " FROM ratings AS r WHERE r.counted GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
    f"INSERT INTO factor_rollups ({_KEY}, factor, score, n)"
    f" SELECT {_KEY_OF}, j.key, j.value::smallint, count(*)"
    " FROM ratings AS r, json_each_text(r.factors) AS j WHERE r.counted"
    " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9",
    f"INSERT INTO reason_rollups ({_KEY}, reason, n) SELECT {_KEY_OF}, j.value, count(DISTINCT r.id)"
    " FROM ratings AS r, json_array_elements_text(r.reasons) AS j WHERE r.counted"
    " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
    f"INSERT INTO hour_rollups (unit, day, hour, score, n) SELECT r.unit, {_LOCAL}::date,"
    f" extract(hour FROM {_LOCAL})::smallint, r.score, count(*) FROM ratings AS r"
    " WHERE r.counted GROUP BY 1, 2, 3, 4",
    f"INSERT INTO channel_rollups (unit, day, channel, assisted, score, n) SELECT r.unit,"
    f" {_LOCAL}::date, r.channel, r.assisted, r.score, count(*) FROM ratings AS r"
    " WHERE r.counted GROUP BY 1, 2, 3, 4, 5",
    # The monthly twins, summed from the daily rows (a month is a set of whole days).
    "INSERT INTO rating_month_rollups (unit, month, stage, counter, officer, procedure, field,"
    " score, n) SELECT unit, date_trunc('month', day)::date, stage, counter, officer, procedure,"
    " field, score, sum(n) FROM rating_rollups GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
    "INSERT INTO reason_month_rollups (unit, month, stage, counter, officer, procedure, field,"
    " reason, n) SELECT unit, date_trunc('month', day)::date, stage, counter, officer, procedure,"
    " field, reason, sum(n) FROM reason_rollups GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
    "INSERT INTO factor_month_rollups (unit, month, officer, factor, score, n)"
    " SELECT unit, date_trunc('month', day)::date, officer, factor, score, sum(n)"
    " FROM factor_rollups GROUP BY 1, 2, 3, 4, 5",
    "INSERT INTO hour_month_rollups (unit, month, weekday, hour, score, n)"
    " SELECT unit, date_trunc('month', day)::date, (extract(isodow FROM day)::int - 1)::smallint,"
    " hour, score, sum(n) FROM hour_rollups GROUP BY 1, 2, 3, 4, 5",
    "INSERT INTO channel_month_rollups (unit, month, channel, assisted, score, n)"
    " SELECT unit, date_trunc('month', day)::date, channel, assisted, score, sum(n)"
    " FROM channel_rollups GROUP BY 1, 2, 3, 4, 5",
    # The province page's folds of two monthly tables (revision 0018).
    "INSERT INTO field_month_rollups (unit, month, field, score, n)"
    " SELECT unit, month, field, score, sum(n) FROM rating_month_rollups GROUP BY 1, 2, 3, 4",
    "INSERT INTO unit_factor_month_rollups (unit, month, factor, score, n)"
    " SELECT unit, month, factor, score, sum(n) FROM factor_month_rollups GROUP BY 1, 2, 3, 4",
)


def schema_version() -> str:
    """A digest of the hub's migrations: a database made by other migrations is rebuilt (a
    reserved revision filled in later would otherwise be skipped on it)."""
    import hashlib

    folder = _common.REPO / "hub" / "store" / "migrations" / "versions"
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def unfilled_rollups() -> tuple[str, ...]:
    """Rollup tables of the hub that the generator leaves empty (a newer table than it)."""
    return tuple(t for t in all_rollup_tables() if t not in (*ROLLUP_TABLES, *COVERAGE_TABLES))


def fingerprint(province: Province, total: int) -> dict[str, Any]:
    return {
        "schema": schema_version(),
        "generator": GENERATOR,
        "ratings": total,
        "units": len(province.units),
        "kiosks": province.kiosks,
    }


def stored_fingerprint(url: str) -> dict[str, Any] | None:
    """What the database says it holds (``bench_province``, written last), or None."""
    import psycopg

    with psycopg.connect(_pgcluster.libpq(url)) as conn:
        found = conn.execute("SELECT to_regclass('bench_province')").fetchone()
        if found is None or found[0] is None:
            return None
        row = conn.execute("SELECT record FROM bench_province").fetchone()
    return None if row is None else dict(json.loads(row[0]))


def prepare(url: str, province: Province, total: int, reuse: bool = True) -> Generated:
    """The database at ``url`` holding this province and ``total`` ratings: reused when its
    fingerprint matches, generated (schema by the hub's migrations) otherwise."""
    wanted = fingerprint(province, total)
    found = stored_fingerprint(url) if reuse else None
    if found is not None and {k: found.get(k) for k in wanted} == wanted:
        return Generated(
            float(found["seconds"]), total, int(found["receipts"]), dict(found["rollup_rows"]),
            reused=True, phases=dict(found.get("phases", {})),
        )  # fmt: skip
    _pgcluster.recreate_database(url)  # the bench's own database: rebuilt by this schema
    generated = generate(url, province, total)
    import psycopg

    record = {**wanted, "seconds": generated.seconds, "receipts": generated.receipts,
              "rollup_rows": generated.rollup_rows, "phases": generated.phases}  # fmt: skip
    with psycopg.connect(_pgcluster.libpq(url)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_province (record text)")
        conn.execute("DELETE FROM bench_province")
        conn.execute("INSERT INTO bench_province VALUES (%s)", (json.dumps(record),))
    return generated


def generate(url: str, province: Province, total: int) -> Generated:
    """Schema, catalogue, receipts and ratings, indexes, rollups, statistics: a fresh database."""
    import psycopg

    from hub.store.db import make_engine

    started = time.monotonic()
    phases: dict[str, float] = {}
    make_engine(url).dispose()  # the migrations
    with psycopg.connect(_pgcluster.libpq(url)) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_province")
        conn.commit()
    fill_catalogue(url, province)
    phases["catalogue"] = time.monotonic() - started
    with psycopg.connect(_pgcluster.libpq(url)) as conn:
        mark = time.monotonic()
        conn.execute("SET synchronous_commit = off")
        indexes = _secondary_indexes(conn, ("ratings", "receipts"))
        # Emptied in this transaction: the COPY then skips the WAL (wal_level=minimal).
        conn.execute(
            "TRUNCATE ratings, receipts, follow_ups, follow_up_events, "
            + ", ".join((*ROLLUP_TABLES, *COVERAGE_TABLES))
            + " CASCADE"
        )
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        state = _copy_rows(conn, province, total, mark)
        conn.commit()
        phases["copy"] = time.monotonic() - mark
        mark = time.monotonic()
        for _, definition in indexes:
            conn.execute(definition)
            conn.commit()
        phases["indexes"] = time.monotonic() - mark
        mark = time.monotonic()
        for statement in ROLLUP_SQL:
            conn.execute(statement)
        conn.commit()
        phases["rollups"] = time.monotonic() - mark
        mark = time.monotonic()
        rebuild_coverage_rollups(url)
        phases["coverage"] = time.monotonic() - mark
        mark = time.monotonic()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        phases["analyze"] = time.monotonic() - mark
        rows = {
            table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
            for table in (*ROLLUP_TABLES, *COVERAGE_TABLES)
        }
        counted = conn.execute("SELECT sum(n) FROM rating_rollups").fetchone()
        expected = conn.execute("SELECT count(*) FROM ratings WHERE counted").fetchone()
        if counted is None or expected is None or counted[0] != expected[0]:
            raise RuntimeError(f"rollups count {counted}, ratings counted {expected}")
    return Generated(time.monotonic() - started, state.ratings, state.receipts, rows, phases=phases)


def rebuild_coverage_rollups(url: str) -> None:
    """The receipts' rated/abandoned flags and the coverage rollups, by the hub's own
    :func:`hub.store.coverage.rebuild_coverage` (meant for bulk-loaded data like this)."""
    from sqlalchemy.orm import Session

    from hub.store.coverage import rebuild_coverage
    from hub.store.db import make_engine

    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            rebuild_coverage(session)
    finally:
        engine.dispose()


def _secondary_indexes(
    conn: psycopg.Connection[Any], tables: Sequence[str]
) -> list[tuple[str, str]]:
    """The indexes of ``tables`` other than their primary keys, with their definitions."""
    found = conn.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes AS i"
        " JOIN pg_class AS c ON c.relname = i.indexname"
        " JOIN pg_index AS x ON x.indexrelid = c.oid"
        " WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)"
        " AND NOT x.indisprimary ORDER BY 1",
        (list(tables),),
    ).fetchall()
    return [(str(name), str(definition)) for name, definition in found]


def _copy_rows(
    conn: psycopg.Connection[Any], province: Province, total: int, started: float
) -> Counters:
    """Every day's rows, streamed: ratings through one COPY, receipts buffered per day into the
    other (two COPYs cannot be open at once on a connection: the receipts go to a temp file)."""
    import tempfile

    draw = random.Random(SEED + total)
    working = days()
    counts = per_day(total, [load for _, load in working])
    cum_units = list(cumulative([u.weight for u in province.units]))
    cum_slots = [list(cumulative(u.slot_weights)) for u in province.units]
    state = Counters()
    report_every = max(total // 20, 1)
    next_report = report_every
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        columns = ", ".join(RATING_COLUMNS)
        with conn.cursor().copy(f"COPY ratings ({columns}) FROM STDIN") as copy:
            for (day, _), n in zip(working, counts, strict=True):
                ratings, receipts = day_rows(province, day, n, draw, cum_units, cum_slots, state)
                copy.write("".join(ratings))
                spool.write("".join(receipts))
                if state.ratings >= next_report:
                    next_report += report_every
                    _progress("ratings", state.ratings, total, started)
        spool.seek(0)
        columns = ", ".join(RECEIPT_COLUMNS)
        with conn.cursor().copy(f"COPY receipts ({columns}) FROM STDIN") as copy:
            while block := spool.read(1 << 20):
                copy.write(block)
    _progress("receipts", state.receipts, state.receipts, started)
    return state


def _progress(what: str, done: int, total: int, started: float) -> None:
    spent = time.monotonic() - started
    rate = done / spent if spent > 0 else 0.0
    print(f"# generated {done:,}/{total:,} {what} in {spent:.0f} s ({rate:,.0f}/s)", flush=True)


def fill_catalogue(url: str, province: Province) -> None:
    """Every unit in the catalogue tables (migration 0009), the province's centre first, by
    :func:`hub.store.catalogue.import_unit`: what ``hailong catalogue import`` writes."""
    from sqlalchemy.orm import Session

    from hub.store.catalogue import import_unit
    from hub.store.db import make_engine
    from hub.store.models import UnitRow

    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            session.query(UnitRow).filter(UnitRow.parent.is_not(None)).delete()
            session.flush()
            for plan in province.units:
                import_unit(session, plan.unit, plan.parent, plan.kind)
    finally:
        engine.dispose()


# -- the proof: the rollups are what the hub would have written ------------------------------------


def rollup_contents(conn: Any, tables: Sequence[str]) -> dict[str, set[tuple[Any, ...]]]:
    return {
        table: {tuple(row) for row in conn.exec_driver_sql(f"SELECT * FROM {table}")}
        for table in tables
    }


def check_rollups(url: str, limit: int = 300_000) -> tuple[bool, str]:
    """Count every counted rating again with :func:`hub.store.rollups.add_to_rollups` (what
    ingest runs), inside a transaction rolled back at the end, and compare with the generated
    rollup tables, row for row. (ok, what was compared)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from hub.store.db import make_engine
    from hub.store.models import RatingRow
    from hub.store.rollups import add_to_rollups

    # Every rollup ingest's add_to_rollups may write: one it fills and the generator does not
    # differs here. (Coverage is counted by the hub's own rebuild_coverage: nothing to prove.)
    tables = tuple(t for t in all_rollup_tables() if t not in COVERAGE_TABLES)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            counted = session.scalar(select(RatingRow.id).where(RatingRow.counted).limit(1))
            n = session.query(RatingRow).filter(RatingRow.counted).count()
            if counted is None or n > limit:
                return False, f"{n} counted ratings (check runs on 1..{limit:,})"
            generated = rollup_contents(session.connection(), tables)
            for table in tables:
                session.connection().exec_driver_sql(f"DELETE FROM {table}")
            names = ("unit", "rated_at", "stage", "counter", "officer", "procedure", "field",
                     "score", "factors", "reasons", "channel", "assisted")  # fmt: skip
            query = select(*(getattr(RatingRow, name) for name in names)).where(RatingRow.counted)
            rows = [dict(row) for row in session.execute(query).mappings()]
            for first in range(0, len(rows), 5000):
                add_to_rollups(session, rows[first : first + 5000])
            session.flush()
            written = rollup_contents(session.connection(), tables)
            session.rollback()
    finally:
        engine.dispose()
    differing = [t for t in tables if generated[t] != written[t]]
    sizes = " ".join(f"{t}={len(generated[t])}" for t in tables)
    if differing:
        return False, f"{n} ratings; differ: {', '.join(differing)}"
    return True, f"{n} ratings, {sizes}"


def sizes_mb(url: str) -> dict[str, float]:
    """Each table with its indexes, and the whole database, in MB."""
    import psycopg

    with psycopg.connect(_pgcluster.libpq(url)) as conn:
        rows = conn.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname = ANY(%s)",
            (["ratings", "receipts", *ROLLUP_TABLES, *COVERAGE_TABLES],),
        ).fetchall()
        whole = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    out = {str(name): size / 1e6 for name, size in rows}
    out["database"] = (whole[0] if whole else 0) / 1e6
    return out


def peak_hour(url: str) -> int:
    """The province's busiest hour in the data: the most ratings counted in one local hour."""
    import psycopg

    with psycopg.connect(_pgcluster.libpq(url)) as conn:
        row = conn.execute(
            "SELECT max(n) FROM (SELECT sum(n) AS n FROM hour_rollups GROUP BY day, hour) AS h"
        ).fetchone()
    return int(row[0] or 0) if row else 0


def describe(generated: Generated) -> str:
    how = "reused, generated in" if generated.reused else "generated in"
    rate = generated.ratings / generated.seconds if generated.seconds else math.nan
    phases = " ".join(f"{k}_s={v:.1f}" for k, v in generated.phases.items())
    rows = " ".join(f"{t}={n}" for t, n in generated.rollup_rows.items())
    return (
        f"generation: {how} seconds={generated.seconds:.1f} ratings={generated.ratings} "
        f"receipts={generated.receipts} rate_per_s={rate:.0f} {phases} {rows}"
    )
