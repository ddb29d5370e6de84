"""Every channel in one count, on real parts: a paper form keyed on the hub, then the kiosk's
rating of the same dossier through a real Mosquitto (the kiosk's user and ACL) to the real hub.
The kiosk's rating is acknowledged ``already_rated`` (kept in the dead letters, not counted), and
a kiosk that claims the paper channel is refused: the dossier is counted once, as paper."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.clock import unit_day
from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Channel
from hailong.settings import HubSettings, Unit
from hub.domain.paper import Keyer, PaperForm
from hub.paper.desk import PaperDesk
from hub.receipts.desk import IssueRequest, ReceiptDesk
from hub.report import Scope, summary
from hub.service import HubService
from hub.store.models import DeadLetterRow, RatingRow
from tests.conftest import Broker
from tests.hailong.contract.test_messages import make_rating
from tests.hub.test_service import KioskPeer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


def test_a_paper_form_then_the_kiosk_rating_of_the_dossier_counts_once(
    broker: Broker, hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> None:
    receipts = ReceiptDesk(hub_settings, unit, hub_sessions)
    request = IssueRequest(counter="Q1", officer="CB001", procedure="1.001193")
    code, other = (str(receipts.issue(request, print_slip=False).receipt.code) for _ in range(2))
    now = datetime.now(UTC)
    with HubService(hub_settings, unit, hub_sessions) as hub:
        assert hub.ready.wait(10), "the hub did not subscribe"
        peer = KioskPeer(broker)
        try:
            entered = PaperDesk(unit, hub_sessions).enter_paper_form(
                PaperForm(code, unit_day(now), 2, {"officer": 2}), Keyer("thu", "CB002", clerk=True)
            )
            hub.announce_rated(entered.code, entered.stage)  # what the staff page does
            tapped = make_rating(seq=1, receipt=ReceiptRef(code=code, verified=True), rated_at=now)
            peer.publish(tapped.to_bytes())
            (ack,) = peer.next_ack().results
            assert (ack.id, ack.outcome) == (tapped.id, "already_rated")
            forged = make_rating(
                seq=2,
                receipt=ReceiptRef(code=other, verified=True),
                rated_at=now,
                channel=Channel.PAPER,
            )
            peer.publish(forged.to_bytes())
            (refused,) = peer.next_ack().results
            assert (refused.outcome, refused.reason) == (
                "rejected",
                "channel paper: only the hub's own pages make those",
            )
        finally:
            peer.close()
    with hub_sessions() as session:
        stored = [
            (r.dossier_code, r.channel, r.entered_by) for r in session.scalars(select(RatingRow))
        ]
        codes = sorted(session.scalars(select(DeadLetterRow.code)))
        (officer,) = summary(session, Scope(unit), "officer")
    assert stored == [(code, "paper", "thu")]
    assert codes == ["already_rated", "channel"]
    assert (officer.key, officer.n, officer.satisfied) == ("CB001", 1, 0)
