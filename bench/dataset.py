"""The benchmarks' large hub database: 10,000,000 ratings by default, over the working days of
2023-01-02..2025-12-31, for 50 units of one province, with their rollups, cached between runs.

Written with bulk SQL, not through the ORM: each chunk of ratings is one ``INSERT ... SELECT``
from a recursive CTE that draws every value with SQLite's ``random()``, followed in the same
transaction by the rollups of exactly those rows, counted with the same ``INSERT ... ON CONFLICT
DO UPDATE SET n = n + excluded.n`` that ``store_batch`` uses; the monthly rollups are summed from
the daily ones at the end (the same rows, far cheaper). ``bench/summary.py`` checks that
the rollups equal what the hub writes; ``bench/pages.py`` times the web pages on it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import _common

if TYPE_CHECKING:
    from hailong.settings import Unit

FIRST_DAY = date(2023, 1, 2)  # a Monday: the data set covers Monday..Friday of three years
END_DAY = date(2026, 1, 1)  # excluded
OPENS_AT_S = 7 * 3600 + 30 * 60  # counters open 07:30 local...
OPEN_SECONDS = 9 * 3600 + 30 * 60  # ...and close 17:00
CHUNK = 250_000  # ratings per transaction while generating
GENERATOR = 2  # bump when the data set changes, so cached databases are rebuilt
SEED = 20_251_201  # the unit catalogues (not the ratings) are the same on every run
MEASURED_UNITS = 5  # units the benches time, among those generated

# How often each procedure of the example catalogue is asked for (certified copies dominate).
PROCEDURE_WEIGHTS = {
    "2.000815": 10,  # Chứng thực bản sao từ bản chính
    "1.001193": 6,  # Đăng ký khai sinh
    "2.000884": 5,  # Chứng thực chữ ký
    "1.000894": 3,  # Đăng ký kết hôn
    "1.000656": 2,  # Đăng ký khai tử
    "1.001612": 2,  # Đăng ký thành lập hộ kinh doanh
}
WARDS = (
    "Nghĩa Tân",
    "Dịch Vọng",
    "Mai Dịch",
    "Quan Hoa",
    "Yên Hòa",
    "Trung Hòa",
    "Nghĩa Đô",
    "Cầu Giấy",
    "Láng Thượng",
    "Kim Liên",
)
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ")
MIDDLE = ("Thị", "Văn", "Đức", "Minh", "Thu", "Quang", "Ngọc", "Hữu")
GIVEN = ("Lan", "Minh", "Hồng", "Anh", "Hà", "Dũng", "Hương", "Tuấn", "Mai", "Nam", "Linh", "Sơn")
COMMENTS = (
    "Chờ quá lâu mới đến lượt.",
    "Cán bộ hướng dẫn chưa rõ, phải đi lại.",
    "Yêu cầu bổ sung giấy tờ không có trong quy định.",
)


# -- the units -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One way a rating can fall: a unit's counter, the officer there, a procedure it handles.

    ``weight`` copies of it go into the slot table, so a uniform draw over the table follows how
    busy units and procedures are; ``bias`` (0..4) makes some officers rated lower than others.
    """

    unit: str
    counter: str
    officer: str
    procedure: str
    field: str
    weight: int
    bias: int


@dataclass(frozen=True)
class UnitPlan:
    unit: Unit
    slots: tuple[Slot, ...]

    @property
    def weight(self) -> int:
        return sum(slot.weight for slot in self.slots)


def unit_code(index: int) -> str:
    """Electronic identifier codes in the national pattern, as in config/unit.toml: the district
    centre ``000.00.DD.H41`` (index 0 is the example unit, 000.00.20.H41), then its communes
    ``000.CC.DD.H41``, ten units per district."""
    district, commune = 20 + index // 10, index % 10
    if district > 99:
        raise ValueError("at most 800 units")
    return f"000.{commune:02d}.{district:02d}.H41"


def plan_units(count: int) -> list[UnitPlan]:
    """``count`` unit catalogues built on the example unit's fields, procedures and reasons: district
    centres are bigger (6 counters, 2 officers each) than communes (3 or 4, 1 or 2 officers)."""
    from hailong.settings import load_unit

    template = load_unit(_common.REPO / "config" / "unit.toml")
    draw = random.Random(SEED)
    return [_plan_unit(index, template, draw) for index in range(count)]


def _plan_unit(index: int, template: Unit, draw: random.Random) -> UnitPlan:
    from hailong.settings import Unit

    code = unit_code(index)
    district_centre = index % 10 == 0
    served = _fields_of_counters(template, 6 if district_centre else draw.choice((3, 3, 4)))
    officers = _officers(served, district_centre, draw)
    name = template.unit.name if index == 0 else f"UBND phường {WARDS[index % len(WARDS)]} ({code})"
    unit = Unit.model_validate(
        {
            **template.model_dump(include={"fields", "procedures", "reasons", "kiosk_policy"}),
            "unit": {"code": code, "name": name, "target_rate": template.unit.target_rate},
            "counters": [{"code": c, "name": f"Quầy {c[1:]}"} for c in served],
            "officers": officers,
            "kiosks": [{"id": f"kiosk-{c.lower()}", "counter": c} for c in served],
        }
    )
    scale = 4 if district_centre else draw.choice((1, 1, 2))
    return UnitPlan(unit, tuple(_slots(unit, served, scale, draw)))


def _officers(
    served: dict[str, list[str]], district_centre: bool, draw: random.Random
) -> list[dict[str, str]]:
    """Two officers per counter at a district centre, one or two at a commune."""
    officers: list[dict[str, str]] = []
    for counter in served:
        for _ in range(2 if district_centre else draw.choice((1, 2, 2))):
            name = f"{draw.choice(FAMILY)} {draw.choice(MIDDLE)} {draw.choice(GIVEN)}"
            officers.append(
                {"code": f"CB{len(officers) + 1:03d}", "name": name, "counter": counter}
            )
    return officers


def _slots(unit: Unit, served: dict[str, list[str]], scale: int, draw: random.Random) -> list[Slot]:
    """Each officer with each procedure of their counter's fields, weighted by how busy the unit
    (``scale``) and the procedure are."""
    slots = []
    for officer in unit.officers:
        assert officer.counter is not None
        bias = draw.choice((0, 0, 0, 1, 1, 2, 4))
        for procedure in unit.procedures:
            if procedure.field in served[officer.counter]:
                weight = scale * PROCEDURE_WEIGHTS.get(procedure.code, 1)
                slot = (officer.counter, officer.code, procedure.code, procedure.field)
                slots.append(Slot(unit.unit.code, *slot, weight, bias))
    return slots


def _fields_of_counters(template: Unit, counters: int) -> dict[str, list[str]]:
    """Which fields each counter ``Q1``.. handles: every field that has procedures is served, a
    counter handles several when there are few counters, and a field gets several counters when
    there are many."""
    fields = [
        f.code for f in template.fields if any(p.field == f.code for p in template.procedures)
    ]
    return {
        f"Q{c + 1}": [f for i, f in enumerate(fields) if i % counters == c or c % len(fields) == i]
        for c in range(counters)
    }


def working_days() -> int:
    """Monday..Friday from FIRST_DAY to END_DAY (no holidays: the load is what matters)."""
    days = (END_DAY - FIRST_DAY).days
    return sum(1 for d in range(days) if (FIRST_DAY + timedelta(days=d)).weekday() < 5)


# -- generating the ratings ------------------------------------------------------------------------

# One chunk of ratings: rows n in [:first, :stop) of the whole data set, in time order (row n falls
# on working day n * :days / :total), every random draw made once per row in the recursive CTE.
# Mixed-radix digits of one draw are independent: a % S, (a / S) % 34200, ...
_INSERT_RATINGS = """
WITH RECURSIVE
draws(n, a, b, c, d, h) AS (
    SELECT :first, random() & 4611686018427387903, random() & 4611686018427387903,
           random() & 4611686018427387903, random() & 4611686018427387903,
           lower(hex(randomblob(16)))
    UNION ALL
    SELECT n + 1, random() & 4611686018427387903, random() & 4611686018427387903,
           random() & 4611686018427387903, random() & 4611686018427387903,
           lower(hex(randomblob(16)))
    FROM draws WHERE n + 1 < :stop
),
rated AS (
    SELECT draws.*, slot.unit, slot.counter, slot.officer, slot.procedure, slot.field,
        CASE
            WHEN b % 1000 < 10 + 5 * slot.bias THEN 1
            WHEN b % 1000 < 30 + 15 * slot.bias THEN 2
            WHEN b % 1000 < 80 + 30 * slot.bias THEN 3
            WHEN b % 1000 < 400 + 40 * slot.bias THEN 4
            ELSE 5
        END AS score,
        :epoch + ((n * :days / :total) / 5 * 7 + (n * :days / :total) % 5) * 86400
            + :opens + (a / :slots) % :open_seconds AS t,
        (a / :slots / :open_seconds) % 1000000 AS us,
        (b / 10000000) % 100 = 0 AS unknown,
        (b / 1000000000) % 100 < 8 AS typed
    FROM draws CROSS JOIN bench_slot AS slot ON slot.id = draws.a % :slots
)
INSERT INTO ratings (
    id, unit, kiosk, seq, dossier_code, receipt_verified, receipt_known, stage, counter, officer,
    procedure, field, score, reasons, factors, comment, callback_phone, lang, channel, rated_at,
    received_at, duration_ms
)
SELECT
    substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-'
        || substr('89ab', 1 + d % 4, 1) || substr(h, 18, 3) || '-' || substr(h, 21, 12),
    unit,
    'kiosk-' || lower(counter),
    n + 1,
    unit || '-' || strftime('%y%m%d', t + :offset, 'unixepoch') || '-' || printf('%06d', n % 1000000),
    NOT typed AND NOT unknown,
    NOT unknown,
    CASE WHEN (b / 1000) % 100 < 20 THEN 'return' ELSE 'reception' END,
    counter,
    CASE WHEN unknown THEN NULL ELSE officer END,
    CASE WHEN unknown THEN NULL ELSE procedure END,
    CASE WHEN unknown THEN NULL ELSE field END,
    score,
    CASE
        WHEN score > 2 THEN '[]'
        WHEN (b / 100000000000) % 3 > 0 THEN json_array(
            (SELECT code FROM bench_reason WHERE i = (b / 300000000000) % :reasons))
        ELSE json_array(
            (SELECT code FROM bench_reason WHERE i = (b / 300000000000) % :reasons),
            (SELECT code FROM bench_reason WHERE i = ((b / 300000000000) % :reasons
                + 1 + (b / 300000000000 / :reasons) % (:reasons - 1)) % :reasons))
    END,
    CASE WHEN (b / 100000) % 100 < 20 THEN json_object(
        'access', max(1, min(5, score + c % 3 - 1)),
        'procedure', max(1, min(5, score + (c / 3) % 3 - 1)),
        'officer', max(1, min(5, score + (c / 9) % 3 - 1)),
        'result', max(1, min(5, score + (c / 27) % 3 - 1)),
        'feedback', max(1, min(5, score + (c / 81) % 3 - 1)))
    ELSE '{}' END,
    CASE WHEN score <= 2 AND (c / 243) % 4 = 0 THEN
        CASE (c / 972) % 3 WHEN 0 THEN :comment0 WHEN 1 THEN :comment1 ELSE :comment2 END
    END,
    CASE WHEN score <= 2 AND (c / 243) % 4 = 0 AND (d / 4) % 2 = 0 THEN
        '09' || printf('%08d', (d / 8) % 100000000)
    END,
    CASE WHEN (c / 2916) % 100 < 3 THEN 'en' ELSE 'vi' END,
    'kiosk',
    strftime('%Y-%m-%d %H:%M:%S', t, 'unixepoch') || printf('.%06d', us),
    strftime('%Y-%m-%d %H:%M:%S', t + 1 + (c / 291600) % 20, 'unixepoch') || printf('.%06d', us),
    3000 + (c / 5832000) % 45000
FROM rated
"""

# The rollups of the ratings with rowid in (:low, :high], counted as add_to_rollups counts them:
# the unit's local day, a missing key as '' (NO_VALUE), a reason once per rating.
_KEY = "unit, day, stage, counter, officer, procedure, field"
_KEY_OF_RATING = """r.unit, date(r.rated_at, :zone_shift), r.stage, coalesce(r.counter, ''),
    coalesce(r.officer, ''), coalesce(r.procedure, ''), coalesce(r.field, '')"""
_INSERT_ROLLUPS = (
    f"""
INSERT INTO rating_rollups ({_KEY}, score, n)
SELECT {_KEY_OF_RATING}, r.score, count(*)
FROM ratings AS r WHERE r.rowid > :low AND r.rowid <= :high
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ON CONFLICT ({_KEY}, score) DO UPDATE SET n = n + excluded.n
""",
    f"""
INSERT INTO factor_rollups ({_KEY}, factor, score, n)
SELECT {_KEY_OF_RATING}, j.key, j.value, count(*)
FROM ratings AS r, json_each(r.factors) AS j WHERE r.rowid > :low AND r.rowid <= :high
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
ON CONFLICT ({_KEY}, factor, score) DO UPDATE SET n = n + excluded.n
""",
    f"""
INSERT INTO reason_rollups ({_KEY}, reason, n)
SELECT {_KEY_OF_RATING}, j.value, count(DISTINCT r.rowid)
FROM ratings AS r, json_each(r.reasons) AS j WHERE r.rowid > :low AND r.rowid <= :high
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ON CONFLICT ({_KEY}, reason) DO UPDATE SET n = n + excluded.n
""",
    """
INSERT INTO channel_rollups (unit, day, channel, assisted, score, n)
SELECT r.unit, date(r.rated_at, :zone_shift), r.channel, r.assisted, r.score, count(*)
FROM ratings AS r WHERE r.rowid > :low AND r.rowid <= :high
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (unit, day, channel, assisted, score) DO UPDATE SET n = n + excluded.n
""",
    """
INSERT INTO hour_rollups (unit, day, hour, score, n)
SELECT r.unit, date(r.rated_at, :zone_shift),
    CAST(strftime('%H', r.rated_at, :zone_shift) AS INTEGER), r.score, count(*)
FROM ratings AS r WHERE r.rowid > :low AND r.rowid <= :high
GROUP BY 1, 2, 3, 4
ON CONFLICT (unit, day, hour, score) DO UPDATE SET n = n + excluded.n
""",
)


# The monthly rollups, summed from the daily ones once every chunk is in: the same rows
# add_to_rollups leaves (a month is a whole set of days), for a fraction of the per-chunk cost.
_MONTH = "date(day, 'start of month')"
_MONTH_KEY = "unit, month, stage, counter, officer, procedure, field"
_DAY_KEY = f"unit, {_MONTH}, stage, counter, officer, procedure, field"
_INSERT_MONTH_ROLLUPS = (
    *(
        f"INSERT INTO {table}_month_rollups ({_MONTH_KEY}, {extra}, n)"
        f" SELECT {_DAY_KEY}, {extra}, sum(n) FROM {table}_rollups GROUP BY {_DAY_KEY}, {extra}"
        for table, extra in (("rating", "score"), ("reason", "reason"))
    ),
    "INSERT INTO factor_month_rollups (unit, month, officer, factor, score, n)"
    f" SELECT unit, {_MONTH}, officer, factor, score, sum(n) FROM factor_rollups"
    " GROUP BY 1, 2, 3, 4, 5",
    "INSERT INTO hour_month_rollups (unit, month, weekday, hour, score, n)"
    f" SELECT unit, {_MONTH}, (CAST(strftime('%w', day) AS INTEGER) + 6) % 7, hour, score,"
    " sum(n) FROM hour_rollups GROUP BY 1, 2, 3, 4, 5",
    "INSERT INTO channel_month_rollups (unit, month, channel, assisted, score, n)"
    f" SELECT unit, {_MONTH}, channel, assisted, score, sum(n) FROM channel_rollups"
    " GROUP BY 1, 2, 3, 4, 5",
    # Revision 0018's small tables, read first by the dashboard and the province pages.
    "INSERT INTO field_month_rollups (unit, month, field, score, n)"
    " SELECT unit, month, field, score, sum(n) FROM rating_month_rollups GROUP BY 1, 2, 3, 4",
    "INSERT INTO unit_factor_month_rollups (unit, month, factor, score, n)"
    " SELECT unit, month, factor, score, sum(n) FROM factor_month_rollups GROUP BY 1, 2, 3, 4",
)
ROLLUP_TABLES = (
    "rating_rollups",
    "factor_rollups",
    "reason_rollups",
    "hour_rollups",
    "rating_month_rollups",
    "factor_month_rollups",
    "reason_month_rollups",
    "hour_month_rollups",
    "channel_rollups",
    "channel_month_rollups",
    "field_month_rollups",
    "unit_factor_month_rollups",
)


@dataclass(frozen=True)
class Generated:
    seconds: float
    ratings: int
    rollup_rows: dict[str, int]
    reused: bool = False


def zone_shift_seconds() -> int:
    """The local zone's offset, checked constant over the data set (Viet Nam: +7 h since 1975),
    so that SQLite's ``date(rated_at, '+25200 seconds')`` is the local day ``add_to_rollups`` takes."""
    from hub.store.ratings import LOCAL_ZONE

    offsets = {
        LOCAL_ZONE.utcoffset(datetime(year, month, 1))
        for year in range(FIRST_DAY.year, END_DAY.year + 1)
        for month in (1, 4, 7, 10)
    }
    if len(offsets) != 1 or None in offsets:
        raise RuntimeError(f"the local zone's offset changes over the data set: {offsets}")
    (offset,) = offsets
    assert offset is not None
    return int(offset.total_seconds())


def generate(path: Path, total: int, plans: Sequence[UnitPlan]) -> Generated:
    """A fresh database at ``path`` (schema by the hub's migrations) with ``total`` ratings and
    their rollups, one transaction per chunk, as ``store_batch`` would have left it."""
    from hub.store.db import make_engine

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    make_engine(f"sqlite:///{path}").dispose()
    start = time.monotonic()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # Bulk-load settings for this connection only; WAL is restored before anyone reads.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1048576")  # 1 GiB: the random UUID index stays in memory
        conn.execute("PRAGMA temp_store=MEMORY")
        slots, reasons = _fill_lookup_tables(conn, plans)
        params = _chunk_params(total, slots, reasons)
        for first in range(0, total, CHUNK):
            _insert_chunk(conn, params, first, min(first + CHUNK, total))
            _progress(first + CHUNK, total, start)
        conn.execute("BEGIN")
        for statement in _INSERT_MONTH_ROLLUPS:
            conn.execute(statement)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")
        rows = _check_generated(conn, total)
    finally:
        conn.close()
    return Generated(time.monotonic() - start, total, rows)


def _fill_lookup_tables(conn: sqlite3.Connection, plans: Sequence[UnitPlan]) -> tuple[int, int]:
    """The slot and reason tables the generator draws from (TEMP: not left in the hub's file)."""
    conn.execute(
        "CREATE TEMP TABLE bench_slot (id INTEGER PRIMARY KEY, unit TEXT, counter TEXT,"
        " officer TEXT, procedure TEXT, field TEXT, bias INTEGER)"
    )
    rows = [
        (s.unit, s.counter, s.officer, s.procedure, s.field, s.bias)
        for plan in plans
        for s in plan.slots
        for _ in range(s.weight)
    ]
    conn.executemany(
        "INSERT INTO bench_slot VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(i, *row) for i, row in enumerate(rows)],
    )
    reasons = [r.code for r in plans[0].unit.reasons]
    if len(reasons) < 2:
        raise RuntimeError("the example unit needs at least two reasons")
    conn.execute("CREATE TEMP TABLE bench_reason (i INTEGER PRIMARY KEY, code TEXT)")
    conn.executemany("INSERT INTO bench_reason VALUES (?, ?)", list(enumerate(reasons)))
    return len(rows), len(reasons)


def _chunk_params(total: int, slots: int, reasons: int) -> dict[str, Any]:
    shift = zone_shift_seconds()
    days = working_days()
    if total // days >= 1_000_000:
        raise ValueError("dossier sequences would repeat within a day: fewer ratings, please")
    first_midnight = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=UTC)
    return {
        "epoch": int(first_midnight.timestamp()) - shift,
        "offset": shift,
        "days": days,
        "total": total,
        "opens": OPENS_AT_S,
        "open_seconds": OPEN_SECONDS,
        "slots": slots,
        "reasons": reasons,
        "zone_shift": f"+{shift} seconds",
        **{f"comment{i}": text for i, text in enumerate(COMMENTS)},
    }


def _insert_chunk(conn: sqlite3.Connection, params: dict[str, Any], first: int, stop: int) -> None:
    """Rows [first, stop) and their rollups, in one transaction as the hub writes a batch."""
    conn.execute("BEGIN")
    low = conn.execute("SELECT coalesce(max(rowid), 0) FROM ratings").fetchone()[0]
    conn.execute(_INSERT_RATINGS, {**params, "first": first, "stop": stop})
    high = conn.execute("SELECT max(rowid) FROM ratings").fetchone()[0]
    if high - low != stop - first:
        raise RuntimeError(f"chunk {first}..{stop}: {high - low} rows inserted")
    for statement in _INSERT_ROLLUPS:
        conn.execute(statement, {**params, "low": low, "high": high})
    conn.execute("COMMIT")


def _progress(done: int, total: int, start: float) -> None:
    step = max(CHUNK, total // 10 // CHUNK * CHUNK)
    if done % step == 0 and done < total:
        print(
            f"# generated {done:,}/{total:,} ratings in {time.monotonic() - start:.0f} s",
            flush=True,
        )


def _check_generated(conn: sqlite3.Connection, total: int) -> dict[str, int]:
    """Every rating stored once and counted once: the data set is unusable otherwise."""
    ratings = conn.execute("SELECT count(*) FROM ratings").fetchone()[0]
    for table in (
        "rating_rollups",
        "rating_month_rollups",
        "hour_month_rollups",
        "channel_month_rollups",
        "field_month_rollups",
    ):
        counted = conn.execute(f"SELECT sum(n) FROM {table}").fetchone()[0]
        if ratings != total or counted != total:
            raise RuntimeError(f"generated {ratings} ratings, {table} count {counted}, not {total}")
    return {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ROLLUP_TABLES
    }


# -- the cached database ---------------------------------------------------------------------------


def _meta_path(db: Path) -> Path:
    return db.with_suffix(".json")


def _meta_key(total: int, units: int) -> dict[str, int]:
    return {"generator": GENERATOR, "ratings": total, "units": units}


def cached(db: Path, total: int, units: int) -> Generated | None:
    """The generation record of ``db`` if it was completed with these parameters."""
    meta = _meta_path(db)
    if not db.exists() or not meta.exists():
        return None
    record = json.loads(meta.read_text())
    if {k: record.get(k) for k in ("generator", "ratings", "units")} != _meta_key(total, units):
        return None
    return Generated(float(record["seconds"]), total, dict(record["rollup_rows"]), reused=True)


def remember(db: Path, units: int, generated: Generated) -> None:
    """Written last: a database without it (a run interrupted while generating) is never reused."""
    record = {
        **_meta_key(generated.ratings, units),
        "seconds": generated.seconds,
        "rollup_rows": generated.rollup_rows,
    }
    _meta_path(db).write_text(json.dumps(record, indent=2) + "\n")


def size_mb(db: Path) -> float:
    return (
        sum(Path(f"{db}{s}").stat().st_size for s in ("", "-wal") if Path(f"{db}{s}").exists())
        / 1e6
    )


def table_sizes_mb(db: Path) -> dict[str, float]:
    """Bytes per table, its indexes included (SQLite's dbstat), so the rollups' cost is visible."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize) FROM dbstat AS s"
            " LEFT JOIN sqlite_schema AS m ON m.name = s.name GROUP BY 1"
        ).fetchall()
    except sqlite3.OperationalError:  # dbstat not compiled in
        return {}
    finally:
        conn.close()
    return {name: size / 1e6 for name, size in rows}


# -- the run's data set ----------------------------------------------------------------------------


def measured_units(plans: Sequence[UnitPlan]) -> list[Unit]:
    """The busiest unit and others spread over the list (district centres and communes)."""
    picks = {
        0,
        *(round(i * (len(plans) - 1) / (MEASURED_UNITS - 1)) for i in range(1, MEASURED_UNITS)),
    }
    ranked = sorted(picks, key=lambda i: -plans[i].weight)
    return [plans[i].unit for i in ranked]


@contextlib.contextmanager
def database_dir(args: argparse.Namespace) -> Iterator[Path]:
    """``--dir`` (kept, for --reuse), else a temp folder removed at the end."""
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        yield args.dir
        return
    with _common.temp_dir("hailong-bench-summary-") as root:
        yield root


def prepare(db: Path, total: int, plans: Sequence[UnitPlan], reuse: bool) -> Generated:
    found = cached(db, total, len(plans)) if reuse else None
    if found is not None:
        return found
    _meta_path(db).unlink(missing_ok=True)
    generated = generate(db, total, plans)
    remember(db, len(plans), generated)
    return generated


def print_generation(db: Path, generated: Generated) -> None:
    rows = " ".join(f"{table}={n}" for table, n in generated.rollup_rows.items())
    rate = generated.ratings / generated.seconds
    how = "reused cached database, generated in" if generated.reused else "generated in"
    print(
        f"generation: {how} seconds={generated.seconds:.1f} ratings={generated.ratings} "
        f"rate_per_s={rate:.0f} {rows}"
    )
    sizes = table_sizes_mb(db)
    tables = ("ratings", *ROLLUP_TABLES)
    parts = " ".join(f"{name}_mb={sizes[name]:.1f}" for name in tables if name in sizes)
    print(f"database: size_mb={size_mb(db):.1f} {parts}")
