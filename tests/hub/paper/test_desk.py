"""The paper-form desk on SQLite and PostgreSQL: forms and assisted ratings go through the
kiosk's store (channel paper, counted, followed up), the register decides who is rated, and every
refusal leaves the database as it was."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.clock import unit_day
from hailong.contract.messages import ReceiptRef
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Stage
from hailong.settings import Unit
from hailong.settings.unit import ReceiptCodes
from hub.domain.followup import State
from hub.domain.ingest import Attribution
from hub.domain.paper import FormRefused, Keyer, PaperForm
from hub.domain.register import judge
from hub.paper.desk import ChannelCount, PaperDesk
from hub.receipts.issuing import issue_receipt, mark_returned, register_receipt
from hub.report import Scope, summary
from hub.store.db import make_engine, session_factory
from hub.store.followups import list_follow_ups
from hub.store.models import DeadLetterRow, RatingRow
from hub.store.ratings import register_view, store_batch
from tests.conftest import UNIT_CODE
from tests.hailong.contract.test_messages import make_rating

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
TODAY = unit_day(NOW)
CLERK = Keyer("thu", "CB002", clerk=True)  # an officer designated to key others' forms
CLERKS = 6


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    return session_factory(make_engine(database_url))


@pytest.fixture
def desk(sessions: sessionmaker[Session], unit: Unit) -> PaperDesk:
    return PaperDesk(unit, sessions, clock=lambda: NOW)


def issue(sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing, days_ago: int = 3) -> str:
    """A receipt CB001 issued at counter Q1 ``days_ago`` days ago."""
    issued = issue_receipt(
        sessions,
        unit,
        keyring,
        "https://hailong.example.gov.vn",
        counter="Q1",
        officer="CB001",
        procedure="1.001193",
        now=NOW - timedelta(days=days_ago),
    )
    return str(issued.code)


def rows(sessions: sessionmaker[Session]) -> list[RatingRow]:
    with sessions() as session:
        return list(
            session.scalars(select(RatingRow).order_by(RatingRow.dossier_code, RatingRow.stage))
        )


def refused(call: object, *args: object) -> str:
    with pytest.raises(FormRefused) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.code


def test_a_paper_form_and_an_assisted_rating_are_stored_counted_and_followed_up(
    desk: PaperDesk, sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    sheet, helped = issue(sessions, unit, keyring), issue(sessions, unit, keyring)
    yesterday = TODAY - timedelta(days=1)
    form = PaperForm(sheet, yesterday, 1, {"officer": 1, "access": 4}, ("thai-do",))
    entered = desk.enter_paper_form(form, CLERK)
    assert (entered.officer, entered.counter, entered.stage) == ("CB001", "Q1", Stage.RECEPTION)
    assert (entered.receipt_known, entered.counted, entered.assisted) == (True, True, False)
    assert unit_day(entered.rated_at) == yesterday  # the form's date is the rating's day
    volunteer = Keyer("tinh-nguyen", None)  # a volunteer's login, no officer code
    assisted = desk.record_assisted(PaperForm(helped, TODAY, 5), volunteer)
    assert assisted.assisted
    stored = rows(sessions)
    assert [(r.channel, r.kiosk, r.entered_by, r.assisted) for r in stored] == [
        ("paper", "paper", "thu", False),
        ("paper", "paper", "tinh-nguyen", True),
    ]
    paper = stored[0]
    assert (paper.officer, paper.procedure, paper.field) == ("CB001", "1.001193", "ho-tich")
    assert paper.factors == {"officer": 1, "access": 4}
    assert paper.reasons == ["thai-do"]
    assert (paper.receipt_known, paper.receipt_verified, paper.counted) == (True, False, True)
    with sessions() as session:
        (officer,) = summary(session, Scope(unit), "officer")
        assert (officer.key, officer.n, officer.satisfied) == ("CB001", 2, 1)
        open_items = list_follow_ups(session, UNIT_CODE, 2, state=State.OPEN)
    assert [item.rating_id for item in open_items] == [entered.rating_id]
    assert desk.channel_counts(NOW - timedelta(days=30)) == [
        ChannelCount("paper", False, 1),
        ChannelCount("paper", True, 1),
    ]
    assert [v.code for v in desk.recent("thu")] == [sheet]
    assert desk.recent("someone-else") == []


def test_every_refusal_stores_nothing(
    desk: PaperDesk, sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    own, kiosk_rated, twice = (issue(sessions, unit, keyring) for _ in range(3))
    enter = desk.enter_paper_form
    # The officer the receipt names, at reception or at the return, cannot key its rating, even
    # a designated paper clerk; an officer who is no clerk keys nothing at all.
    lan = Keyer("lan", "CB001", clerk=True)
    assert refused(enter, PaperForm(own, TODAY, 5), lan) == "own_dossier"
    assert refused(desk.record_assisted, PaperForm(own, TODAY, 5), lan) == "own_dossier"
    for keying in (enter, desk.record_assisted):
        assert refused(keying, PaperForm(own, TODAY, 5), Keyer("thu", "CB002")) == "not_clerk"
    mark_returned(sessions, unit, own, officer="CB003", now=NOW - timedelta(days=1))
    back = PaperForm(own, TODAY, 5, stage="return")
    assert refused(enter, back, Keyer("hoa", "CB003", clerk=True)) == "own_dossier"
    # Dates: not before the issue (3 days ago), nor the return (yesterday), nor after today.
    issued_on = TODAY - timedelta(days=3)
    assert refused(enter, PaperForm(own, issued_on - timedelta(days=1), 4), CLERK) == (
        "date_before_issue"
    )
    assert refused(enter, PaperForm(own, TODAY + timedelta(days=1), 4), CLERK) == "date_future"
    early_back = PaperForm(own, TODAY - timedelta(days=2), 4, stage="return")
    assert refused(enter, early_back, CLERK) == "date_before_return"
    assert refused(enter, PaperForm(twice, TODAY, 4, stage="return"), CLERK) == "not_returned"
    # Answers past the scale.
    assert refused(enter, PaperForm(twice, TODAY, 0), CLERK) == "score"
    assert refused(enter, PaperForm(twice, TODAY, 4, {"officer": 6}), CLERK) == "factor"
    # An assisted rating is recorded with the citizen there: today.
    assert refused(desk.record_assisted, PaperForm(twice, issued_on, 4), CLERK) == ("assisted_date")
    # Codes the register refuses: not issued yet (today's sequence past the last), another unit.
    assert refused(enter, PaperForm(f"{UNIT_CODE}-{TODAY:%y%m%d}-9999", TODAY, 4), CLERK) == (
        "receipt_not_issued_yet"
    )
    assert refused(enter, PaperForm("000.00.21.H41-261120-0001", TODAY, 4), CLERK) == (
        "receipt_other_unit"
    )
    assert rows(sessions) == []
    # One rating per receipt and stage, whatever the channel: the kiosk's came first...
    rating = make_rating(receipt=ReceiptRef(code=kiosk_rated, verified=True), rated_at=NOW)
    with sessions.begin() as session:
        judged = judge(rating, register_view(session, [kiosk_rated], NOW), unit)
        assert isinstance(judged, Attribution)
        store_batch(session, [(rating, judged)], NOW)
    assert refused(enter, PaperForm(kiosk_rated, TODAY, 2), CLERK) == "already_rated"
    # ...or the same sheet keyed twice.
    desk.enter_paper_form(PaperForm(twice, TODAY, 4), CLERK)
    assert refused(enter, PaperForm(twice, TODAY, 5), Keyer("head", None)) == "already_rated"
    # The return is another moment: its own form is taken, and counts for the return's officer.
    returned = desk.enter_paper_form(back, CLERK)
    assert (returned.stage, returned.officer) == (Stage.RETURN, "CB003")
    stored = rows(sessions)
    assert sorted((r.dossier_code, r.channel) for r in stored) == sorted(
        [(kiosk_rated, "kiosk"), (twice, "paper"), (own, "paper")]
    )
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(DeadLetterRow)) == 0


def test_a_code_the_register_does_not_know_follows_the_units_policy(
    desk: PaperDesk, sessions: sessionmaker[Session], unit: Unit
) -> None:
    """Another system's receipt from a past day: kept as unverified, named nobody, and out of
    the figures unless the unit counts such codes; never dated before the day its code carries."""
    code = f"{UNIT_CODE}-261101-0005"
    assert refused(desk.enter_paper_form, PaperForm(code, date(2026, 10, 31), 4), CLERK) == (
        "date_before_issue"
    )
    entered = desk.enter_paper_form(PaperForm(code, date(2026, 11, 2), 4), CLERK)
    assert (entered.receipt_known, entered.counted, entered.officer) == (False, False, None)
    counting = unit.model_copy(
        update={
            "register_policy": unit.register_policy.model_copy(update={"count_unverified": True})
        }
    )
    other = f"{UNIT_CODE}-261101-0006"
    counted = PaperDesk(counting, sessions, clock=lambda: NOW).enter_paper_form(
        PaperForm(other, date(2026, 11, 2), 4), CLERK
    )
    assert counted.counted
    assert desk.channel_counts(datetime(2026, 11, 1, tzinfo=UTC)) == [
        ChannelCount("paper", False, 1)
    ]


def test_one_sheet_keyed_at_once_by_several_clerks_is_stored_once(
    desk: PaperDesk, sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    """Six submissions of one form at the same moment race to the unique index: one is stored,
    the others are refused as already rated, none fails with a database error."""
    code = issue(sessions, unit, keyring)
    start = threading.Barrier(CLERKS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def clerk(n: int) -> None:
        start.wait(timeout=30)
        try:
            desk.enter_paper_form(PaperForm(code, TODAY, 1 + n % 5), Keyer(f"clerk{n}", None))
            outcome = "stored"
        except FormRefused as exc:
            outcome = exc.code
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(CLERKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["already_rated"] * (CLERKS - 1) + ["stored"]
    assert len(rows(sessions)) == 1


def test_a_form_keyed_by_another_systems_code_in_the_units_pattern_finds_its_receipt(
    sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    """A provincial system's slip registered here (``G09.20-20261124-0092637``): the form keyed
    with that code is attributed from the register, as a kiosk rating of it would be."""
    igate = unit.model_copy(
        update={"receipt_codes": ReceiptCodes(external_patterns=("G09.20-{yyyymmdd}-{seq:7}",))}
    )
    code = "G09.20-20261124-0092637"
    register_receipt(
        sessions,
        igate,
        keyring,
        "https://hailong.example.gov.vn",
        code=code,
        counter="Q2",
        officer="CB003",
        procedure="1.000894",
        now=NOW - timedelta(days=1),
    )
    desk = PaperDesk(igate, sessions, clock=lambda: NOW)
    entered = desk.enter_paper_form(PaperForm(code, TODAY, 4), CLERK)
    assert (entered.code, entered.officer, entered.counter) == (code, "CB003", "Q2")
    assert (entered.receipt_known, entered.counted) == (True, True)


def test_a_factor_marked_not_applicable_on_paper_is_stored_apart_from_the_answers(
    desk: PaperDesk, sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    sheet = issue(sessions, unit, keyring)
    form = PaperForm(sheet, TODAY, 4, {"officer": 5}, not_applicable=("feedback", "result"))
    desk.enter_paper_form(form, CLERK)
    (paper,) = rows(sessions)
    assert (paper.factors, paper.not_applicable) == ({"officer": 5}, ["feedback", "result"])
