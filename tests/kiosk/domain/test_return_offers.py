"""A rating offered at the return, on the kiosk (pure): the queue that waits for an idle kiosk, and
the session that opens the rating from an offer exactly as from a scan."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hailong.contract.messages import KioskPolicy
from hailong.contract.receipt import KeyRing, ReceiptRefused
from hailong.contract.return_offer import ReturnOfferMessage
from hailong.contract.scale import Score, Stage
from hailong.settings import MqttSettings, ReceiptKeys
from kiosk.domain.return_offers import MAX_REMEMBERED, MAX_WAITING, ReturnOffers
from kiosk.domain.screen import Screen
from kiosk.domain.session import (
    ALREADY_RATED,
    RatingSession,
    SaveAbandoned,
    SaveRating,
    StaleAction,
    Tick,
)
from tests.kiosk.conftest import kiosk_settings, signed_url

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
LIFE = timedelta(seconds=180)


def offer(
    n: int = 1, receipt: str = "r", kiosk: str = "kiosk-q1", at: datetime = T0
) -> ReturnOfferMessage:
    return ReturnOfferMessage(
        id=uuid.UUID(int=n),
        unit="000.00.20.H41",
        kiosk=kiosk,
        counter="Q1",
        receipt=receipt,
        offered_at=at,
        expires_at=at + LIFE,
    )


# -- the queue -----------------------------------------------------------------------------------


def test_offers_wait_in_order_and_each_is_taken_once() -> None:
    offers = ReturnOffers("kiosk-q1")
    assert offers.receive(offer(1, "a"), T0) is None
    assert offers.receive(offer(2, "b"), T0) is None
    assert [offers.take(T0).receipt, offers.take(T0).receipt] == ["a", "b"]  # type: ignore[union-attr]
    assert offers.take(T0) is None


def test_an_offer_for_another_kiosk_or_already_expired_is_not_kept() -> None:
    offers = ReturnOffers("kiosk-q1")
    assert offers.receive(offer(1, kiosk="kiosk-q2"), T0) == "other_kiosk"
    assert offers.receive(offer(2), T0 + LIFE) == "expired"
    assert len(offers) == 0


def test_an_offer_that_expires_while_the_kiosk_is_busy_is_dropped() -> None:
    offers = ReturnOffers("kiosk-q1")
    offers.receive(offer(1, "stale"), T0)
    offers.receive(offer(2, "fresh", at=T0 + timedelta(seconds=60)), T0 + timedelta(seconds=60))
    assert offers.take(T0 + LIFE).receipt == "fresh"  # type: ignore[union-attr]
    assert offers.take(T0 + LIFE) is None


def test_a_redelivered_offer_is_refused_even_after_it_was_shown() -> None:
    offers = ReturnOffers("kiosk-q1")
    assert offers.receive(offer(1), T0) is None
    assert offers.receive(offer(1), T0) == "duplicate"
    assert offers.take(T0) is not None
    assert offers.receive(offer(1), T0) == "duplicate"


def test_a_second_offer_of_the_same_dossier_replaces_the_first() -> None:
    offers = ReturnOffers("kiosk-q1")
    offers.receive(offer(1, "a"), T0)
    offers.receive(offer(2, "b"), T0)
    offers.receive(offer(3, "a", at=T0 + timedelta(seconds=30)), T0 + timedelta(seconds=30))
    taken = [offers.take(T0 + timedelta(seconds=30)) for _ in range(3)]
    assert [o.id.int if o else None for o in taken] == [2, 3, None]


def test_at_most_max_waiting_offers_wait_and_the_oldest_goes() -> None:
    offers = ReturnOffers("kiosk-q1")
    for n in range(MAX_WAITING + 1):
        offers.receive(offer(n + 1, f"r{n}"), T0)
    assert len(offers) == MAX_WAITING
    assert offers.take(T0).receipt == "r1"  # type: ignore[union-attr]


def test_the_remembered_ids_are_bounded() -> None:
    offers = ReturnOffers("kiosk-q1")
    for n in range(MAX_REMEMBERED + 1):
        offers.receive(offer(n + 1, f"r{n}"), T0)
        offers.take(T0)
    assert offers.receive(offer(1, "r0"), T0) is None  # forgotten: the oldest of them
    assert offers.receive(offer(MAX_REMEMBERED + 1), T0) == "duplicate"


# -- the session --------------------------------------------------------------------------------


def _session(
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    mqtt: MqttSettings,
    rated: set[tuple[str, Stage]] | None = None,
    refused: list[str] | None = None,
) -> RatingSession:
    settings = kiosk_settings(tmp_path, receipt_keys, mqtt)
    seen = rated or set()
    sink = refused if refused is not None else []
    return RatingSession(
        settings.kiosk,
        receipt_keys.keyring(),
        lambda c, s: (c, s) in seen,
        policy=KioskPolicy(),
        on_refused=sink.append,
    )


def test_an_offer_opens_the_return_rating_and_only_the_tap_makes_a_rating(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings, keyring: KeyRing
) -> None:
    session = _session(tmp_path, receipt_keys, offline_mqtt)
    assert session.offer_return(signed_url(keyring), T0) is Screen.RATING
    subject = session.subject
    assert subject is not None
    # The stage is the return; the slip's receiving officer is not the one rated at the return.
    assert (subject.stage, subject.verified, subject.officer) == (Stage.RETURN, True, None)
    assert (subject.procedure, subject.counter) == ("1.001193", "Q1")
    assert session.take_effects() == []  # nothing is stored by the offer itself
    assert session.choose_score(Score.VERY_SATISFIED, T0 + timedelta(seconds=9)) is Screen.SAVING
    (save,) = session.take_effects()
    assert isinstance(save, SaveRating)
    assert save.close
    rating = save.build(1)
    assert (rating.stage, rating.score, rating.officer) == (
        Stage.RETURN,
        Score.VERY_SATISFIED,
        None,
    )


def test_an_offer_nobody_answers_stores_nothing_but_a_scan_left_so_is_abandoned(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings, keyring: KeyRing
) -> None:
    session = _session(tmp_path, receipt_keys, offline_mqtt)
    session.offer_return(signed_url(keyring), T0)
    later = T0 + timedelta(seconds=session.kiosk.idle_reset_seconds)
    assert session.tick(later) is Tick.RESET
    session.end(later, "timeout")
    assert session.take_effects() == []  # the officer's action alone stores nothing
    session.reset()
    # The citizen scans their own slip over an offer: from then on it is their scanned session.
    session.offer_return(signed_url(keyring), T0)
    session.submit_code(signed_url(keyring), T0)
    assert session.subject is not None
    assert session.subject.stage is Stage.RECEPTION  # this sandbox never heard of the return
    session.end(later, "timeout")
    (abandoned,) = session.take_effects()
    assert isinstance(abandoned, SaveAbandoned)
    assert abandoned.build(1).reason == "timeout"


def test_a_forged_offer_is_refused_like_a_forged_scan_and_shows_nothing(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings, keyring: KeyRing
) -> None:
    refused: list[str] = []
    session = _session(tmp_path, receipt_keys, offline_mqtt, refused=refused)
    genuine = signed_url(keyring)
    forged = genuine.replace("p=1.001193", "p=1.000894")  # another procedure, same signature
    with pytest.raises(ReceiptRefused) as caught:
        session.offer_return(forged, T0)
    assert caught.value.reason == "bad_signature"
    assert refused == ["bad_signature"]
    assert (session.screen, session.notice, session.subject) == (Screen.ATTRACT, None, None)


def test_an_already_rated_return_says_so_as_a_scan_does(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings, keyring: KeyRing
) -> None:
    code = "000.00.20.H41-261125-0007"
    reception_only = _session(tmp_path, receipt_keys, offline_mqtt, {(code, Stage.RECEPTION)})
    assert reception_only.offer_return(signed_url(keyring), T0) is Screen.RATING
    both = _session(tmp_path, receipt_keys, offline_mqtt, {(code, Stage.RETURN)})
    assert both.offer_return(signed_url(keyring), T0) is Screen.MESSAGE
    assert both.notice is ALREADY_RATED


def test_an_offer_never_interrupts_a_citizen(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings, keyring: KeyRing
) -> None:
    session = _session(tmp_path, receipt_keys, offline_mqtt)
    session.submit_code(signed_url(keyring, sequence=8), T0)
    with pytest.raises(StaleAction):
        session.offer_return(signed_url(keyring), T0)
    assert session.subject is not None
    assert session.subject.dossier_code == "000.00.20.H41-261125-0008"
    session.choose_score(Score.DISSATISFIED, T0)  # the reasons screen, rating open
    with pytest.raises(StaleAction):
        session.offer_return(signed_url(keyring), T0)
    session.reset()
    session.submit_code("not a receipt", T0)  # a refusal is on screen: someone is there
    with pytest.raises(StaleAction):
        session.offer_return(signed_url(keyring), T0)
