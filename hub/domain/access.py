"""Which units, and whose figures, a login may see (pure): the one rule every page asks.

A login has a role (officer, head, admin) and a scope, the unit it belongs to. A province
account's scope is the province, the top of the :class:`~hub.domain.units.UnitTree`. The rule:

* a head or an admin sees their scope unit and every unit under it, at any depth (a province's
  head and admin so see every unit; a commune's head and admin their commune);
* an officer sees themselves only: their own ratings, in their own unit;
* a scope the tree does not know (a unit since removed, a typo in a file edited by hand) sees
  nothing: a login never falls back to more than it was given.

Targets (chỉ tiêu) are set from above: an admin sets them for the units under their scope, and
for their scope itself only when it is the top of the tree with units under it (the province's
own target). A unit's admin so cannot set their unit's own target, and a hub serving one unit
alone keeps the target of its catalogue file.

Kept here, pure and apart from the web, so the pages, the CLI and the reports cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.domain.units import UnitTree

OFFICER, HEAD, ADMIN = "officer", "head", "admin"


@dataclass(frozen=True)
class Reach:
    """What one login may see: ``units`` (codes, in the tree's order) and, for an officer, the
    ``officer`` code whose figures alone are theirs (None: every officer of those units)."""

    units: tuple[str, ...]
    officer: str | None = None

    def sees(self, unit: str) -> bool:
        return unit in self.units

    @property
    def nothing(self) -> bool:
        return not self.units


NOTHING = Reach(())


def reach(role: str, scope: str, officer: str | None, tree: UnitTree) -> Reach:
    """What a login of ``role`` scoped to unit ``scope`` (and, for an officer, acting as
    ``officer``) may see in ``tree``."""
    if scope not in tree:
        return NOTHING
    if role in (HEAD, ADMIN):
        return Reach(tuple(node.code for node in tree.within(scope)))
    if role == OFFICER and officer:
        return Reach((scope,), officer)
    return NOTHING  # an unknown role, or an officer login without an officer code


def sees_units(role: str, scope: str, tree: UnitTree) -> bool:
    """Whether the login sees whole units (their counters, officers, rankings): heads and
    admins of a unit the tree knows; never an officer."""
    return role in (HEAD, ADMIN) and scope in tree


def may_set_target(role: str, scope: str, unit: str, tree: UnitTree) -> bool:
    """Whether an ``admin`` scoped to ``scope`` may set ``unit``'s yearly target: a unit strictly
    under their scope, or their scope itself when it is the top of the tree and has units under
    it. Heads and officers set none."""
    if role != ADMIN or scope not in tree or unit not in tree:
        return False
    if unit == scope:
        node = tree.get(scope)
        return node is not None and node.parent is None and bool(tree.children(scope))
    return any(above.code == scope for above in tree.ancestors(unit))


def targets_settable(role: str, scope: str, tree: UnitTree) -> tuple[str, ...]:
    """The units whose targets this login may set, in the tree's order (empty for most)."""
    return tuple(n.code for n in tree if may_set_target(role, scope, n.code, tree))
