"""The units one hub serves, as a tree: a province (tỉnh/thành phố) over its communes and wards
(xã, phường) and departments (sở, ban, ngành).

A hub may serve one unit (the embedded default, from ``config/unit.toml``) or a whole province.
Pages, reports and logins all ask the same questions of it: which units sit under this one, what
is this unit's parent, which units may this login see. Keeping the answers here, pure, means the
province view, the scoped roles and the reports cannot disagree about them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from enum import StrEnum

from hailong.contract.clock import DEFAULT_ZONE_NAME, zone_named


class UnitKind(StrEnum):
    """What a unit is in the administration (after Decree 118/2025 districts are gone)."""

    PROVINCE = "province"  # tỉnh / thành phố trực thuộc trung ương
    COMMUNE = "commune"  # xã / phường / đặc khu
    DEPARTMENT = "department"  # sở, ban, ngành (a provincial department's one-stop counter)


@dataclass(frozen=True)
class UnitNode:
    """One unit in the tree: its code (the dossier codes' prefix), name, kind and parent."""

    code: str
    name: str
    kind: UnitKind = UnitKind.COMMUNE
    parent: str | None = None
    time_zone: str = DEFAULT_ZONE_NAME  # the unit's clock (hailong.contract.clock)

    @property
    def zone(self) -> tzinfo:
        """The unit's time zone: the days its figures and reports are counted on."""
        return zone_named(self.time_zone)


@dataclass(frozen=True)
class UnitTree:
    """Every unit the hub serves, each with its parent (``None`` at the top).

    Built once from the catalogue; refuses a parent that is not in the tree and a cycle, so a walk
    up or down always ends.
    """

    nodes: tuple[UnitNode, ...]
    _by_code: dict[str, UnitNode] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code: dict[str, UnitNode] = {}
        for node in self.nodes:
            if node.code in by_code:
                raise ValueError(f"unit {node.code!r} appears twice")
            by_code[node.code] = node
        for node in self.nodes:
            if node.parent is not None and node.parent not in by_code:
                raise ValueError(f"unit {node.code!r}: parent {node.parent!r} is not a unit")
        object.__setattr__(self, "_by_code", by_code)
        for node in self.nodes:
            self._check_no_cycle(node)

    def _check_no_cycle(self, node: UnitNode) -> None:
        seen = {node.code}
        parent = node.parent
        while parent is not None:
            if parent in seen:
                raise ValueError(f"unit {node.code!r}: its parents form a cycle")
            seen.add(parent)
            parent = self._by_code[parent].parent

    @classmethod
    def of(cls, nodes: Iterable[UnitNode]) -> UnitTree:
        return cls(tuple(nodes))

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[UnitNode]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def get(self, code: str) -> UnitNode | None:
        return self._by_code.get(code)

    def roots(self) -> tuple[UnitNode, ...]:
        return tuple(n for n in self.nodes if n.parent is None)

    def children(self, code: str) -> tuple[UnitNode, ...]:
        return tuple(n for n in self.nodes if n.parent == code)

    def ancestors(self, code: str) -> tuple[UnitNode, ...]:
        """The unit's parent, its parent's parent... up to the top (nearest first)."""
        out: list[UnitNode] = []
        node = self._by_code.get(code)
        while node is not None and node.parent is not None:
            node = self._by_code[node.parent]
            out.append(node)
        return tuple(out)

    def within(self, code: str) -> tuple[UnitNode, ...]:
        """The unit and every unit under it, at any depth (empty for an unknown code)."""
        if code not in self._by_code:
            return ()
        return tuple(n for n in self.nodes if n.code == code or self._under(n, code))

    def _under(self, node: UnitNode, code: str) -> bool:
        return any(a.code == code for a in self.ancestors(node.code))
