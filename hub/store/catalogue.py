"""The catalogue in tables (``[hub] catalogue = "database"``, revision 0009): every unit a hub
serves, with its parent, and what each one lists.

The tables are a store, not a second model: :func:`load_units` rebuilds the very ``Unit`` a unit
file gives (validated by the same pydantic model), so ingest, pages and kiosks see no difference,
and :func:`import_unit` takes a ``Unit`` (from a file or from an edit the admin pages validated)
and replaces that unit's rows in the caller's transaction. The unit tree (parents) is checked
with :class:`hub.domain.units.UnitTree` before anything is written: an unknown parent or a cycle
is refused with a clear message and nothing changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hailong.settings import Unit
from hub.domain.units import UnitKind, UnitNode, UnitTree
from hub.store.models import (
    UnitCounterRow,
    UnitFieldRow,
    UnitKioskRow,
    UnitOfficerRow,
    UnitProcedureRow,
    UnitReasonRow,
    UnitRow,
)

# The lists of a unit and their tables, in the order a unit file lists them.
_ENTRY_TABLES: dict[str, type[Any]] = {
    "fields": UnitFieldRow,
    "counters": UnitCounterRow,
    "officers": UnitOfficerRow,
    "procedures": UnitProcedureRow,
    "reasons": UnitReasonRow,
    "kiosks": UnitKioskRow,
}
# The unit's own columns; everything else the model carries goes to ``units.extra``.
_POLICIES = ("kiosk_policy", "register_policy")
_INFO_COLUMNS = ("code", "name", "target_rate", "time_zone")


class CatalogueStoreError(ValueError):
    """A catalogue the tables cannot take (unknown parent, cycle, a kiosk id another unit has)
    or rows that no longer make a valid unit; the message says which, in Vietnamese and English."""


@dataclass(frozen=True)
class UnitSummary:
    """One line of ``hailong catalogue list``."""

    code: str
    name: str
    kind: str
    parent: str | None
    counters: int
    officers: int
    procedures: int
    kiosks: int


def import_unit(
    session: Session,
    unit: Unit,
    parent: str | None = None,
    kind: UnitKind | str = UnitKind.COMMUNE,
) -> None:
    """Make the tables hold ``unit`` exactly: its row (added or replaced) and its lists (every
    old entry removed, the new ones written in order). Idempotent; runs in the caller's
    transaction, so a refusal (or any error) leaves the tables as they were."""
    code = unit.unit.code
    kind = _kind(kind)
    _check_tree(session, UnitNode(code, unit.unit.name, kind, parent))
    _check_kiosks(session, code, unit)
    dump = unit.model_dump(mode="json")
    info = dump.pop("unit")
    for name in _ENTRY_TABLES:
        dump.pop(name)
    policies = {name: dump.pop(name) for name in _POLICIES}
    extra_info = {k: v for k, v in info.items() if k not in _INFO_COLUMNS}
    extra = {**dump, **({"unit": extra_info} if extra_info else {})}
    for table in _ENTRY_TABLES.values():
        session.execute(delete(table).where(table.unit == code))
    row = session.get(UnitRow, code)
    if row is None:
        row = UnitRow(code=code)
        session.add(row)
    row.name = unit.unit.name
    row.kind = kind.value
    row.parent = parent
    row.target_rate = unit.unit.target_rate
    row.time_zone = unit.unit.time_zone
    row.kiosk_policy = policies["kiosk_policy"]
    row.register_policy = policies["register_policy"]
    row.extra = extra
    row.revision = (row.revision or 0) + 1
    session.flush()  # the unit first: its lists refer to it
    for name, table in _ENTRY_TABLES.items():
        for position, entry in enumerate(dump_entries(unit, name)):
            session.add(table(unit=code, position=position, **entry))
    session.flush()


def dump_entries(unit: Unit, name: str) -> list[dict[str, Any]]:
    """A unit's list as table columns (a kiosk's ``id`` is the ``code`` column)."""
    out = []
    for item in getattr(unit, name):
        values = item.model_dump(mode="json")
        if name == "kiosks":
            values["code"] = values.pop("id")
        out.append(values)
    return out


def _kind(kind: UnitKind | str) -> UnitKind:
    try:
        return UnitKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in UnitKind)
        raise CatalogueStoreError(
            f"Loại đơn vị “{kind}” không có (chỉ: {kinds}). / Unknown unit kind “{kind}” "
            f"(one of: {kinds})."
        ) from None


def _check_tree(session: Session, node: UnitNode) -> None:
    """The tree with ``node`` in (replacing its old self) must still be a tree."""
    nodes = [n for n in _nodes(session) if n.code != node.code]
    if node.parent is not None and node.parent not in {n.code for n in nodes} | {node.code}:
        raise CatalogueStoreError(
            f"Đơn vị cấp trên “{node.parent}” của “{node.code}” chưa có trong danh mục: hãy nhập "
            f"nó trước. / The parent “{node.parent}” of “{node.code}” is not in the catalogue: "
            "import it first."
        )
    try:
        UnitTree.of([*nodes, node])
    except ValueError as exc:
        raise CatalogueStoreError(
            f"Đơn vị “{node.code}” không thể thuộc “{node.parent}”: các đơn vị cấp trên tạo "
            f"thành vòng. / Unit “{node.code}” cannot sit under “{node.parent}”: {exc}."
        ) from exc


def _check_kiosks(session: Session, code: str, unit: Unit) -> None:
    """A kiosk id is an MQTT user name: two units cannot both have it."""
    ids = [k.id for k in unit.kiosks]
    if not ids:
        return
    taken = session.execute(
        select(UnitKioskRow.code, UnitKioskRow.unit).where(
            UnitKioskRow.code.in_(ids), UnitKioskRow.unit != code
        )
    ).all()
    if taken:
        which = ", ".join(f"{kiosk} ({owner})" for kiosk, owner in sorted(taken))
        raise CatalogueStoreError(
            f"Mã máy đã thuộc đơn vị khác: {which}; mã máy là tên đăng nhập MQTT nên phải khác "
            f"nhau trong cả tỉnh. / Kiosk ids already used by another unit: {which}; a kiosk id "
            "is its MQTT user name, so it is unique across the province."
        )


def _nodes(session: Session) -> list[UnitNode]:
    columns = (UnitRow.code, UnitRow.name, UnitRow.kind, UnitRow.parent, UnitRow.time_zone)
    rows = session.execute(select(*columns).order_by(UnitRow.code)).all()
    return [
        UnitNode(code, name, UnitKind(kind), parent, zone)
        for code, name, kind, parent, zone in rows
    ]


def revisions(session: Session) -> dict[str, int]:
    """Each unit's revision: one cheap query tells a running hub which units changed."""
    return {code: rev for code, rev in session.execute(select(UnitRow.code, UnitRow.revision))}


def load_tree(session: Session) -> UnitTree:
    """Every unit in the tables, with its parent."""
    return UnitTree.of(_nodes(session))


def load_units(session: Session, codes: Iterable[str] | None = None) -> dict[str, Unit]:
    """The units (all, or those of ``codes`` that exist) as validated ``Unit`` models, in seven
    queries whatever their number."""
    wanted = None if codes is None else sorted(set(codes))
    query = select(UnitRow).order_by(UnitRow.code)
    if wanted is not None:
        query = query.where(UnitRow.code.in_(wanted))
    rows = list(session.scalars(query))
    if not rows:
        return {}
    entries: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for name, table in _ENTRY_TABLES.items():
        listed = select(table).order_by(table.unit, table.position)
        if wanted is not None:
            listed = listed.where(table.unit.in_(wanted))
        for entry in session.scalars(listed):
            entries[entry.unit][name].append(_entry_values(name, entry))
    return {row.code: _unit(row, entries[row.code]) for row in rows}


def _entry_values(name: str, entry: Any) -> dict[str, Any]:
    if name == "kiosks":
        return {"id": entry.code, "counter": entry.counter}
    values = {"code": entry.code, "name": entry.name}
    if name == "officers":
        values["counter"] = entry.counter
    elif name == "procedures":
        values["field"] = entry.field
    elif name == "reasons":
        values |= {"name_en": entry.name_en, "factor": entry.factor}
        if entry.icon is not None:  # absent: the code's default pictogram
            values["icon"] = entry.icon
    return values


def _unit(row: UnitRow, entries: dict[str, list[dict[str, Any]]]) -> Unit:
    extra = dict(row.extra or {})
    info = {"code": row.code, "name": row.name, "target_rate": row.target_rate}
    info["time_zone"] = row.time_zone
    info |= extra.pop("unit", {})
    raw = {
        **extra,
        "unit": info,
        "kiosk_policy": row.kiosk_policy,
        "register_policy": row.register_policy,
        **{name: entries.get(name, []) for name in _ENTRY_TABLES},
    }
    try:
        return Unit.model_validate(raw)
    except ValidationError as exc:
        raise CatalogueStoreError(
            f"Danh mục của đơn vị “{row.code}” trong cơ sở dữ liệu không hợp lệ. / The catalogue "
            f"of unit “{row.code}” in the database is not valid: {exc}"
        ) from exc


def load_unit(session: Session, code: str) -> Unit:
    """One unit, or :class:`CatalogueStoreError` if the tables do not have it."""
    unit = load_units(session, [code]).get(code)
    if unit is None:
        raise CatalogueStoreError(
            f"Không có đơn vị “{code}” trong danh mục. / No unit “{code}” in the catalogue."
        )
    return unit


def lock_unit(session: Session, code: str) -> UnitNode:
    """The unit's row, locked until the transaction ends (PostgreSQL: two editors of one unit,
    in two hub processes, take turns; SQLite has one writer anyway). Its kind and parent are
    what an edit of its lists keeps."""
    row = session.scalars(select(UnitRow).where(UnitRow.code == code).with_for_update()).first()
    if row is None:
        raise CatalogueStoreError(
            f"Không có đơn vị “{code}” trong danh mục. / No unit “{code}” in the catalogue."
        )
    return UnitNode(row.code, row.name, UnitKind(row.kind), row.parent, row.time_zone)


def summaries(session: Session) -> list[UnitSummary]:
    """Every unit with the size of its lists, parents first (for ``hailong catalogue list``)."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for name in ("counters", "officers", "procedures", "kiosks"):
        table = _ENTRY_TABLES[name]
        for unit, n in session.execute(select(table.unit, func.count()).group_by(table.unit)):
            counts[unit][name] = n
    tree = load_tree(session)
    ordered: list[UnitNode] = []

    def walk(nodes: Sequence[UnitNode]) -> None:
        for node in nodes:
            ordered.append(node)
            walk(tree.children(node.code))

    walk(tree.roots())
    return [
        UnitSummary(
            n.code,
            n.name,
            n.kind.value,
            n.parent,
            counts[n.code].get("counters", 0),
            counts[n.code].get("officers", 0),
            counts[n.code].get("procedures", 0),
            counts[n.code].get("kiosks", 0),
        )
        for n in ordered
    ]


def home_unit(session: Session, code: str | None) -> Unit:
    """The unit a database-catalogue hub calls its own (``[hub] unit``): the one named, else the
    tables' only unit, else their only top unit (the province)."""
    if code is not None:
        return load_unit(session, code)
    tree = load_tree(session)
    only = tree.nodes if len(tree) == 1 else tree.roots()
    if len(only) != 1:
        raise CatalogueStoreError(
            "Danh mục có nhiều đơn vị cấp cao nhất (hoặc trống): hãy đặt [hub] unit. / The "
            f"catalogue has {len(only)} top units: set [hub] unit to the hub's own unit."
        )
    return load_unit(session, only[0].code)
