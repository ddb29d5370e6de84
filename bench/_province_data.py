"""A province's hub database for the province benchmark: 150 units in a tree (the province's own
public service centre at the top, its departments and communes under it), 1,500 kiosks, each
unit's counters, officers, procedures and fields in the catalogue tables, and three years of
receipts and ratings (50 million at full scale) on PostgreSQL, with their rollups.

Written for speed, not through the ORM: the rows are drawn in Python and streamed with
``COPY ... FROM STDIN`` (text format) into ``ratings`` and ``receipts`` emptied in the same
transaction (with ``wal_level=minimal`` PostgreSQL then writes no WAL for them), with their
secondary indexes dropped first and rebuilt after (the very definitions the migrations made, read
back from ``pg_indexes``). The rollups are then counted by SQL, ``INSERT ... SELECT ... GROUP BY``
over the counted ratings, by the same rules as :func:`hub.store.rollups.add_to_rollups` (the
unit's local day and hour, a missing key as ``''``, a reason once per rating); the monthly ones
are summed from the daily ones. :func:`check_rollups` proves the two agree on a generated database
(the smoke test runs it).

The shape is meant to look like a real province: more ratings on Mondays and mornings, a lunch
break, fewer around Tết and none on public holidays, growth over the years, units of very
different sizes, some units better rated than others and some improving or slipping over time,
officers rated differently within a unit, a response rate (receipts rated) per unit between 55 %
and 95 %, a few ratings whose receipt the register does not know (not counted).
"""

from __future__ import annotations

import bisect
import json
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import _common
import _pgcluster

if TYPE_CHECKING:
    import psycopg

    from hailong.settings import Unit

GENERATOR = 2  # bump when the data set changes: a stored database with another number is rebuilt
SEED = 20_261_206
FIRST_DAY = date(2023, 1, 1)
END_DAY = date(2026, 1, 1)  # excluded
ZONE_NAME = "Asia/Ho_Chi_Minh"  # hailong.contract.clock.UNIT_ZONE: UTC+7 all year
ZONE_OFFSET = "+07"  # the zone's offset, the same all year (checked by check_rollups' proof)
OPENS = 7 * 3600 + 30 * 60  # counters open at 07:30 local
PROVINCE = "000.00.00.H41"
DEPARTMENT_SHARE = 20 / 149  # sở, ban, ngành with a one-stop counter; the rest are communes
# Half hours of the working day (local): 07:30-11:30 and 13:30-17:00, with their relative load.
HALF_HOURS = (
    *((7 * 60 + 30 + 30 * i, w) for i, w in enumerate((7, 11, 12, 11, 9, 7, 5, 3))),
    *((13 * 60 + 30 + 30 * i, w) for i, w in enumerate((5, 8, 9, 8, 6, 4, 2))),
)
WEEKDAY_LOAD = (1.25, 1.05, 1.0, 0.95, 0.85)  # Monday..Friday
# Public holidays (no counter open) and the Tết weeks (barely any) of 2023-2025.
HOLIDAYS = frozenset(
    date.fromisoformat(d)
    for d in (
        "2023-01-02", "2023-04-29", "2023-05-01", "2023-05-02", "2023-05-03", "2023-09-01",
        "2023-09-04", "2024-01-01", "2024-04-18", "2024-04-29", "2024-04-30", "2024-05-01",
        "2024-09-02", "2024-09-03", "2025-01-01", "2025-04-07", "2025-04-30", "2025-05-01",
        "2025-05-02", "2025-09-01", "2025-09-02",
    )
)  # fmt: skip
TET = ((date(2023, 1, 20), date(2023, 1, 27)), (date(2024, 2, 8), date(2024, 2, 15)),
       (date(2025, 1, 27), date(2025, 2, 3)))  # fmt: skip
COMMENTS = (
    "Chờ quá lâu mới đến lượt.",
    "Cán bộ hướng dẫn chưa rõ, phải đi lại.",
    "Yêu cầu bổ sung giấy tờ không có trong quy định.",
)
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương")
MIDDLE = ("Thị", "Văn", "Đức", "Minh", "Thu", "Quang", "Ngọc", "Hữu")
GIVEN = ("Lan", "Minh", "Hồng", "Anh", "Hà", "Dũng", "Hương", "Tuấn", "Mai", "Nam", "Linh", "Sơn")
FACTORS = ("access", "procedure", "officer", "result", "feedback")
RATING_COLUMNS = (
    "id", "unit", "kiosk", "seq", "dossier_code", "receipt_verified", "receipt_known", "stage",
    "counter", "officer", "procedure", "field", "score", "reasons", "factors", "comment",
    "callback_phone", "lang", "channel", "rated_at", "received_at", "duration_ms", "counted",
    "suspect",
)  # fmt: skip
RECEIPT_COLUMNS = (
    "dossier_code", "unit", "procedure", "counter", "officer", "key_id", "url", "issued_at",
    "printed", "origin", "return_announced",
)  # fmt: skip


# -- the province: units, kiosks, who is rated how ------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One way a rating can fall in a unit: a counter (and its kiosk), an officer there, a
    procedure of the counter's fields; ``p`` is how likely this officer's ratings are satisfied."""

    unit: int
    kiosk: str
    counter: str
    officer: str
    procedure: str
    field: str
    p: float


@dataclass(frozen=True)
class UnitPlan:
    index: int
    unit: Unit
    kind: str
    parent: str | None
    weight: float  # its share of the province's ratings
    coverage: float  # receipts rated at the reception, of those issued
    trend: float  # change of the satisfied share per year (some units improve, some slip)
    slots: tuple[Slot, ...]
    slot_weights: tuple[float, ...]

    @property
    def code(self) -> str:
        return self.unit.unit.code


@dataclass(frozen=True)
class Province:
    units: tuple[UnitPlan, ...]
    reasons: tuple[str, ...]

    @property
    def root(self) -> UnitPlan:
        return self.units[0]

    @property
    def kiosks(self) -> int:
        return sum(len(u.unit.kiosks) for u in self.units)

    def busiest_commune(self) -> UnitPlan:
        return max((u for u in self.units if u.kind == "commune"), key=lambda u: u.weight)


def departments(units: int) -> int:
    """How many of ``units`` are departments: 20 of a province's 150 (at least one commune)."""
    return min(units - 2, round((units - 1) * DEPARTMENT_SHARE))


def unit_code(index: int, units: int) -> str:
    """Codes in the national pattern: the province's centre, then its departments, then its
    communes (never the example unit's 000.00.20.H41, which the load run's kiosks rate)."""
    if index == 0:
        return PROVINCE
    if index <= departments(units):
        return f"000.00.{30 + index:02d}.H41"
    commune = index - departments(units) - 1
    return f"000.{commune % 99 + 1:02d}.{60 + commune // 99:02d}.H41"


def plan_province(units: int = 150, kiosks: int = 1500) -> Province:
    """``units`` units (at least 2) sharing ``kiosks`` kiosks (at least one each), drawn from a
    fixed seed: the same arguments give the same province on every run."""
    from hailong.settings import load_unit

    if units < 2 or kiosks < units:
        raise ValueError("at least 2 units and one kiosk per unit")
    template = load_unit(_common.REPO / "config" / "unit.toml")
    draw = random.Random(SEED)
    sizes = [8.0] + [draw.lognormvariate(0, 0.6) for _ in range(units - 1)]
    total = sum(sizes)
    weights = [s / total for s in sizes]
    # Kiosks in proportion to the load, at least one per unit, the rounding left to the biggest.
    counts = [max(1, int(kiosks * w)) for w in weights]
    counts[0] += kiosks - sum(counts)
    if counts[0] < 1:
        raise ValueError("too few kiosks for this many units")
    plans = [_plan_unit(i, template, weights[i], counts[i], draw, units) for i in range(units)]
    return Province(tuple(plans), tuple(r.code for r in template.reasons))


def _plan_unit(
    index: int, template: Unit, weight: float, kiosks: int, draw: random.Random, units: int
) -> UnitPlan:
    from hailong.settings import Unit

    code = unit_code(index, units)
    last_department = departments(units)
    kind = "province" if index == 0 else "department" if index <= last_department else "commune"
    names = {
        "province": "Trung tâm Phục vụ hành chính công tỉnh Thành Bình",  # fictional
        "department": f"Bộ phận Một cửa Sở số {index}",
        "commune": f"UBND xã số {index - last_department}",
    }
    fields = [f.code for f in template.fields]
    counters = [f"Q{n + 1}" for n in range(kiosks)]
    served = {c: [fields[(i + j) % len(fields)] for j in range(1 + i % 2)] for i, c in
              enumerate(counters)}  # fmt: skip
    officers: list[dict[str, str]] = []
    for counter in counters:
        for _ in range(draw.choice((1, 1, 2, 2, 3))):
            name = f"{draw.choice(FAMILY)} {draw.choice(MIDDLE)} {draw.choice(GIVEN)}"
            officers.append(
                {"code": f"CB{len(officers) + 1:03d}", "name": name, "counter": counter}
            )
    unit = Unit.model_validate(
        {
            **template.model_dump(include={"fields", "procedures", "reasons", "kiosk_policy"}),
            "unit": {"code": code, "name": names[kind], "target_rate": 90.0},
            "counters": [{"code": c, "name": f"Quầy {c[1:]}"} for c in counters],
            "officers": officers,
            "kiosks": [
                {"id": f"kiosk-{index:03d}-{n + 1:02d}", "counter": c}
                for n, c in enumerate(counters)
            ],
        }
    )
    quality = draw.gauss(0.86, 0.05)
    slots, slot_weights = [], []
    for officer in unit.officers:
        assert officer.counter is not None
        kiosk = f"kiosk-{index:03d}-{int(officer.counter[1:]):02d}"
        p = min(0.99, max(0.4, quality + draw.choice((0.04, 0.02, 0.0, 0.0, -0.03, -0.08))))
        for procedure in unit.procedures:
            if procedure.field in served[officer.counter]:
                slots.append(
                    Slot(index, kiosk, officer.counter, officer.code, procedure.code,
                         procedure.field, p)
                )  # fmt: skip
                slot_weights.append(draw.choice((1, 2, 3, 6, 10)))
    return UnitPlan(
        index=index,
        unit=unit,
        kind=kind,
        parent=None if index == 0 else PROVINCE,
        weight=weight,
        coverage=draw.uniform(0.55, 0.95),
        trend=draw.choice((0.03, 0.01, 0.0, 0.0, -0.01, -0.03)),
        slots=tuple(slots),
        slot_weights=tuple(slot_weights),
    )


def days() -> list[tuple[date, float]]:
    """Every working day with its relative load (weekday, Tết, the months, growth)."""
    out = []
    day = FIRST_DAY
    while day < END_DAY:
        if day.weekday() < 5 and day not in HOLIDAYS:
            load = WEEKDAY_LOAD[day.weekday()]
            load *= 0.2 if any(a <= day < b for a, b in TET) else 1.0
            load *= 1.15 if day.month in (1, 12) else 0.9 if day.month in (7, 8) else 1.0
            load *= 1.0 + 0.12 * (day - FIRST_DAY).days / 365
            out.append((day, load))
        day += timedelta(days=1)
    return out


# -- the rows --------------------------------------------------------------------------------------


@dataclass
class _Counters:
    kiosk_seq: dict[str, int] = field(default_factory=dict)
    ratings: int = 0
    receipts: int = 0


def _uuid(draw: random.Random) -> str:
    h = f"{draw.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"


def _stamp(day: str, second: float) -> str:
    """The local time ``second`` seconds into ``day`` (ISO) with its offset, as COPY reads a
    ``timestamptz`` (no datetime objects: the hot path)."""
    whole = int(second)
    return f"{day} {whole // 3600:02d}:{whole % 3600 // 60:02d}:{second % 60:09.6f}{ZONE_OFFSET}"


def _day_rows(
    province: Province,
    day: date,
    n: int,
    draw: random.Random,
    cum_units: Sequence[float],
    cum_slots: Sequence[Sequence[float]],
    state: _Counters,
) -> tuple[list[str], list[str]]:
    """One day's ratings (``n``) and receipts (theirs and the unrated ones), as COPY lines."""
    iso = day.isoformat()
    years = (day - FIRST_DAY).days / 365
    starts = [start for start, _ in HALF_HOURS]
    cum_half = list(_cumulative([w for _, w in HALF_HOURS]))
    drawn: list[tuple[float, Slot, str]] = []  # (local second of day, slot, stage)
    extra: list[tuple[float, Slot]] = []
    for u in draw.choices(range(len(province.units)), cum_weights=cum_units, k=n):
        plan = province.units[u]
        slot = draw.choices(plan.slots, cum_weights=cum_slots[u])[0]
        half = bisect.bisect_right(cum_half, draw.random() * cum_half[-1])
        second = starts[min(half, len(starts) - 1)] * 60 + draw.random() * 1800
        stage = "return" if draw.random() < 0.2 else "reception"
        drawn.append((second, slot, stage))
        if stage == "reception":
            # Receipts nobody rated, so the unit's response rate is about its coverage.
            left = 1 / plan.coverage - 1
            while draw.random() < left:
                extra.append((second - draw.uniform(0, 3600), slot))
                left -= 1
    drawn.sort(key=lambda row: row[0])
    sequence: dict[int, int] = {}
    ratings, receipts = [], []
    day_code = day.strftime("%y%m%d")

    def dossier(slot: Slot) -> str:
        number = sequence.get(slot.unit, 0) + 1
        if number > 9999:
            raise ValueError(f"{day}: over 9,999 receipts in one unit: fewer ratings, please")
        sequence[slot.unit] = number
        return f"{province.units[slot.unit].code}-{day_code}-{number:04d}"

    def receipt(code: str, slot: Slot, at: float) -> None:
        url = f"{_common.BASE_URL}/r/{code}"
        receipts.append(
            f"{code}\t{province.units[slot.unit].code}\t{slot.procedure}\t{slot.counter}\t"
            f"{slot.officer}\tk1\t{url}\t{_stamp(iso, at)}\tt\tissued\tf\n"
        )

    for second, slot, stage in drawn:
        plan = province.units[slot.unit]
        rated_at = max(second, OPENS)
        known = draw.random() >= 0.02
        code = dossier(slot)
        if known:
            receipt(code, slot, max(OPENS, rated_at - draw.uniform(180, 2400)))
        p = min(0.995, max(0.3, slot.p + plan.trend * (years - 1.5)))
        if draw.random() < p:
            score = 5 if draw.random() < 0.55 else 4
        else:
            score = draw.choices((3, 2, 1), (60, 25, 15))[0]
        reasons = "[]"
        comment = phone = "\\N"
        if score <= 2:
            picked = sorted(set(draw.sample(province.reasons, draw.choice((1, 1, 2)))))
            reasons = json.dumps(picked)
            if draw.random() < 0.25:
                comment = draw.choice(COMMENTS)
                if draw.random() < 0.5:
                    phone = f"09{draw.randrange(10**8):08d}"
        factors = "{}"
        if draw.random() < 0.2:
            answers = {f: max(1, min(5, score + draw.choice((-1, 0, 0, 1)))) for f in FACTORS}
            factors = json.dumps(answers)
        seq = state.kiosk_seq.get(slot.kiosk, 0) + 1
        state.kiosk_seq[slot.kiosk] = seq
        received = rated_at + 1 + draw.random() * 20
        lang = "en" if draw.random() < 0.03 else "vi"
        ratings.append(
            f"{_uuid(draw)}\t{plan.code}\t{slot.kiosk}\t{seq}\t{code}\t{'t' if known else 'f'}\t"
            f"{'t' if known else 'f'}\t{stage}\t{slot.counter}\t{slot.officer}\t{slot.procedure}\t"
            f"{slot.field}\t{score}\t{reasons}\t{factors}\t{comment}\t{phone}\t{lang}\tkiosk\t"
            f"{_stamp(iso, rated_at)}\t{_stamp(iso, received)}\t{draw.randrange(3000, 48000)}\t"
            f"{'t' if known else 'f'}\tf\n"
        )
    for second, slot in extra:
        receipt(dossier(slot), slot, max(second, OPENS))
    state.ratings += len(ratings)
    state.receipts += len(receipts)
    return ratings, receipts


def _cumulative(values: Sequence[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def _per_day(total: int, loads: Sequence[float]) -> list[int]:
    """``total`` split over the days by load, exactly (cumulative rounding)."""
    whole = sum(loads)
    out, done, running = [], 0, 0.0
    for load in loads:
        running += load
        upto = round(total * running / whole)
        out.append(upto - done)
        done = upto
    return out


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
COVERAGE_TABLES = ("coverage_rollups", "coverage_day_rollups")


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
) -> _Counters:
    """Every day's rows, streamed: ratings through one COPY, receipts buffered per day into the
    other (two COPYs cannot be open at once on a connection: the receipts go to a temp file)."""
    import tempfile

    draw = random.Random(SEED + total)
    working = days()
    counts = _per_day(total, [load for _, load in working])
    cum_units = list(_cumulative([u.weight for u in province.units]))
    cum_slots = [list(_cumulative(u.slot_weights)) for u in province.units]
    state = _Counters()
    report_every = max(total // 20, 1)
    next_report = report_every
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        columns = ", ".join(RATING_COLUMNS)
        with conn.cursor().copy(f"COPY ratings ({columns}) FROM STDIN") as copy:
            for (day, _), n in zip(working, counts, strict=True):
                ratings, receipts = _day_rows(province, day, n, draw, cum_units, cum_slots, state)
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
