"""The web app's one typed context: what every handler reaches (settings, the catalogue, the
database, the desks, the logins), built once in :func:`hub.web.app.create_app`.

Handlers take it as a dependency (``ctx: Ctx``) so mypy knows every type; this module is the one
place that stores it on the app and reads it back. It is frozen: a change of the unit catalogue
(the administration pages) installs a new context whose desks are built on the new unit, while
what lives across changes (logins, live receipts, report jobs) is carried over as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.scale import Stage
from hailong.settings import HubSettings, Unit, WebSettings
from hub.catalogue import UnitFile
from hub.domain.followup import Assignee
from hub.exports.jobs import Jobs
from hub.followups.desk import FollowUpDesk
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
    unit: Unit
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    accounts: Accounts
    tokens: ApiTokens
    templates: Jinja2Templates
    unit_file: UnitFile  # one per app: it holds the writers' lock
    fresh_receipts: FreshReceipts
    jobs: Jobs
    on_rated: Callable[[str, Stage], object] | None  # tells the kiosks of a rating made online
    ingest: HubService | None  # the worker in this process, whose figures /metrics shows

    @cached_property
    def receipts(self) -> ReceiptDesk:
        return ReceiptDesk(self.settings, self.unit, self.sessions, self.clock)

    @cached_property
    def follow_ups(self) -> FollowUpDesk:
        return FollowUpDesk(self.unit, self.sessions, self.clock, self._officer_logins)

    @cached_property
    def review(self) -> ReviewDesk:
        return ReviewDesk(self.unit, self.sessions, self.clock)

    def _officer_logins(self) -> list[Assignee]:
        return [
            Assignee(a.username, a.officer)
            for a in self.accounts.all()
            if a.role == "officer" and a.officer
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
    the file on its own and republishes it to the kiosks)."""
    install(request.app, replace(context(request), unit=unit))


Ctx = Annotated[HubContext, Depends(context)]
