"""The province of the province benchmark, drawn in Python and written nowhere (that is
``_province_data.py``): 150 units in a tree (the province's own public service centre at the top,
its departments and communes under it), 1,500 kiosks, each unit's counters, officers, procedures
and fields, and three years of receipts and ratings as the ``COPY`` lines (text format) of
``ratings`` and ``receipts``, all from a fixed seed.

The shape is meant to look like a real province: more ratings on Mondays and mornings, a lunch
break, fewer around Tết and none on public holidays, growth over the years, units of very
different sizes, some units better rated than others and some improving or slipping over time,
officers rated differently within a unit, a response rate (receipts rated) per unit between 55 %
and 95 %, a few ratings whose receipt the register does not know (not counted).
"""

from __future__ import annotations

import bisect
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

import _common

if TYPE_CHECKING:
    from hailong.settings import Unit

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
class Counters:
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


def day_rows(
    province: Province,
    day: date,
    n: int,
    draw: random.Random,
    cum_units: Sequence[float],
    cum_slots: Sequence[Sequence[float]],
    state: Counters,
) -> tuple[list[str], list[str]]:
    """One day's ratings (``n``) and receipts (theirs and the unrated ones), as COPY lines."""
    iso = day.isoformat()
    years = (day - FIRST_DAY).days / 365
    starts = [start for start, _ in HALF_HOURS]
    cum_half = list(cumulative([w for _, w in HALF_HOURS]))
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


def cumulative(values: Sequence[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def per_day(total: int, loads: Sequence[float]) -> list[int]:
    """``total`` split over the days by load, exactly (cumulative rounding)."""
    whole = sum(loads)
    out, done, running = [], 0, 0.0
    for load in loads:
        running += load
        upto = round(total * running / whole)
        out.append(upto - done)
        done = upto
    return out
