"""The web app's one typed context: what every handler reaches (settings, the catalogue, the
database, the desks, the logins), built once in :func:`hub.web.app.create_app`.

Handlers take it as a dependency (``ctx: Ctx``) so mypy knows every type; this module is the one
place that stores it on the app and reads it back. It is frozen: a change of the unit catalogue
(the administration pages) installs a new context whose desks are built on the new unit, while
what lives across changes (logins, live receipts, report jobs) is carried over as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.scale import Stage
from hailong.settings import HubSettings, Unit, WebSettings
from hub.catalogue import Catalogue, UnitFile
from hub.domain.followup import Assignee
from hub.domain.units import UnitTree
from hub.exports.jobs import Jobs
from hub.followups.desk import FollowUpDesk
from hub.province import ProvinceDesk
from hub.receipts.desk import ReceiptDesk
from hub.review import ReviewDesk
from hub.web.accounts import Accounts, ApiTokens

if TYPE_CHECKING:
    from hub.service import HubService
    from hub.web.staff import FreshReceipts


@dataclass(frozen=True, eq=False)
class HubContext:
    settings: HubSettings
    web: WebSettings  # settings.web, known to be there
    unit: Unit  # the home unit: the one a single-unit hub serves, and kiosks' default
    units: UnitTree  # every unit this hub serves (the home unit alone by default)
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    accounts: Accounts
    tokens: ApiTokens
    templates: Jinja2Templates
    unit_file: UnitFile  # one per app: it holds the writers' lock
    # Every served unit's catalogue by code (the file's one unit, or the tables'), cached.
    catalogue: Catalogue
    fresh_receipts: FreshReceipts
    jobs: Jobs
    # Tells the kiosks of a rating made online: (code, stage) for the home unit, and with the
    # unit's code for another (HubService.announce_rated). Call it through :meth:`rated`.
    on_rated: Callable[..., object] | None
    ingest: HubService | None  # the worker in this process, whose figures /metrics shows
    # Set on a unit's own context (:meth:`for_unit`): the hub's home unit, which ``unit`` is not.
    home_unit: Unit | None = None
    # The served units' own contexts, built once per unit and catalogue (see :meth:`for_unit`).
    _per_unit: dict[str, HubContext] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def home(self) -> Unit:
        """The hub's home unit (its unit file's; what an account without a scope belongs to)."""
        return self.home_unit or self.unit

    def for_unit(self, code: str) -> HubContext | None:
        """The context of the served unit ``code``, whose ``unit`` and desks (receipts,
        follow-ups, review) are that unit's; None for a unit the hub holds no catalogue of.

        Whether the login may see the unit is the caller's question (:mod:`hub.web.pages`). Kept
        per unit while the catalogue answers the same unit, so a page builds no desk of its own;
        an edit of the unit (or the catalogue cache's expiry with a change) gives a new one."""
        if code == self.home.unit.code:
            return self if self.home_unit is None else replace(self, unit=self.home, home_unit=None)
        unit = self.catalogue.unit(code)
        if unit is None:
            return None
        made = self._per_unit.get(code)
        if made is None or not (made.unit is unit or made.unit == unit):
            made = replace(self, unit=unit, home_unit=self.home)
            self._per_unit[code] = made
        return made

    @cached_property
    def receipts(self) -> ReceiptDesk:
        return ReceiptDesk(self.settings, self.unit, self.sessions, self.clock)

    @cached_property
    def follow_ups(self) -> FollowUpDesk:
        return FollowUpDesk(self.unit, self.sessions, self.clock, self._officer_logins)

    @cached_property
    def review(self) -> ReviewDesk:
        return ReviewDesk(self.unit, self.sessions, self.clock)

    @cached_property
    def province(self) -> ProvinceDesk:
        """The province view, drill-down, trends and targets over :attr:`units`."""
        return ProvinceDesk(self.units, self.catalogue_of, self.sessions, self.clock)

    def rated(self, code: str, stage: Stage) -> None:
        """Tell the kiosks of this context's unit that receipt ``code`` was rated at ``stage``
        outside MQTT (online, on paper), so they refuse its scan."""
        if self.on_rated is None:
            return
        if self.home_unit is None:
            self.on_rated(code, stage)
        else:
            self.on_rated(code, stage, self.unit.unit.code)

    def catalogue_of(self, code: str) -> Unit | None:
        """A served unit's catalogue (its counters', officers' and fields' names), or None for
        a unit this hub does not serve (:meth:`hub.catalogue.Catalogue.unit`)."""
        return self.catalogue.unit(code)

    def _officer_logins(self) -> list[Assignee]:
        """The officer logins of this context's unit (another unit's officer may share a code)."""
        code, home = self.unit.unit.code, self.home.unit.code
        return [
            Assignee(a.username, a.officer)
            for a in self.accounts.all()
            if a.role == "officer" and a.officer and a.scope(home) == code
        ]


def install(app: FastAPI, ctx: HubContext) -> None:
    app.state.hub_context = ctx


def current(app: FastAPI) -> HubContext:
    ctx: HubContext = app.state.hub_context
    return ctx


def context(request: Request) -> HubContext:
    """The app's context (a FastAPI dependency)."""
    return current(request.app)


def adopt(request: Request, unit: Unit) -> None:
    """This process's pages and desks use the new catalogue at once (the ingest worker reloads
    the file or the tables on its own and republishes it to the kiosks). ``unit`` may be any
    served unit: the home unit's desks are rebuilt only when it is the one that changed."""
    ctx = context(request)
    ctx.catalogue.changed(unit)
    home = unit if unit.unit.code == ctx.unit.unit.code else ctx.unit
    units = ctx.catalogue.tree() if ctx.catalogue.from_database else ctx.units
    install(request.app, replace(ctx, unit=home, units=units))


Ctx = Annotated[HubContext, Depends(context)]
