"""Ratings and receipts for the data-out tests (the feed, the views, the role, the dashboard),
stored the way the hub stores them, with personal data in every place it can be, so a test can
show that none of it comes out.

Twelve dossiers of one unit, each with a receipt (citizen name and phone on it) and a reception
rating (a comment and a call-back phone on it), one rating stored per second from ``STORED``;
dossiers 0, 3, 6 and 9 were returned and rated again at the return stage. Beside them: a walk-in
(no dossier code), a code the register does not know (not counted), a suspect rating, and an
assisted paper rating. The 11th and 12th reception ratings are stored at the same instant. The
third reception rating's citizen answered the feedback question "Không áp dụng".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.dossier_feed import SCHEMA_FILES
from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Channel, Factor, Score, Stage
from hub.domain.ingest import Attribution
from hub.store.models import ReceiptRow
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating

UNIT = "000.00.20.H41"
STORED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
CITIZEN = "Nguyễn Thị Bí Mật"
CITIZEN_PHONE = "0912345678"
COMMENT = "Cán bộ Nguyễn Văn B nói chuyện khó nghe, số nhà tôi 12"
CALLBACK = "0987654321"
PERSONAL = (CITIZEN, CITIZEN_PHONE, COMMENT, CALLBACK)
SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@dataclass
class Seeded:
    """What was stored: the feed's rating ids in storing order, and the rest."""

    feed_ids: list[str] = field(default_factory=list)  # ratings of a dossier, in (received_at, id)
    walk_in: str = ""
    unknown_code: str = ""
    suspect: str = ""
    assisted: str = ""
    not_applicable: str = ""  # the rating with feedback answered "không áp dụng"
    last_stored: datetime = STORED


def code(i: int) -> str:
    return f"{UNIT}-261120-{i + 1:04d}"


def seed(sessions: sessionmaker[Session]) -> Seeded:
    seeded = Seeded()
    with sessions.begin() as session:
        for i in range(12):
            session.add(
                ReceiptRow(
                    dossier_code=code(i),
                    unit=UNIT,
                    procedure="1.001193",
                    counter="Q1" if i % 2 else "Q2",
                    officer="CB001" if i % 2 else "CB003",
                    key_id="k1",
                    url=f"https://hub.example/r/{code(i)}?s=SIGNATURE",
                    issued_at=STORED - timedelta(hours=1, minutes=i),
                    promised_on=date(2026, 11, 25),
                    printed=True,
                    origin="issued",
                    citizen_name=CITIZEN,
                    citizen_contact=CITIZEN_PHONE,
                    returned_at=STORED + timedelta(hours=2) if i % 3 == 0 else None,
                    returned_by="CB002" if i % 3 == 0 else None,
                )
            )
    stored: list[tuple[datetime, Any, Attribution]] = []
    at = STORED
    for i in range(12):
        rating = make_rating(
            seq=i + 1,
            receipt=ReceiptRef(code=code(i), verified=True),
            counter=None,
            officer=None,
            procedure=None,
            score=list(Score)[i % 5],
            factors={Factor.OFFICER: Score.SATISFIED, Factor.ACCESS: Score.DISSATISFIED},
            reasons=("rude",) if i % 5 < 2 else (),
            comment=COMMENT,
            callback_phone=CALLBACK,
            rated_at=at - timedelta(seconds=30),
            not_applicable=(Factor.FEEDBACK,) if i == 2 else None,
        )
        if i == 2:
            seeded.not_applicable = str(rating.id)
        attribution = Attribution(
            "Q1" if i % 2 else "Q2",
            "CB001" if i % 2 else "CB003",
            "1.001193",
            "ho-tich",
            receipt_known=True,
        )
        stored.append((at, rating, attribution))
        if i != 10:  # the 11th and the 12th are stored at one instant
            at += timedelta(seconds=1)
    for i in (0, 3, 6, 9):
        rating = make_rating(
            seq=100 + i,
            receipt=ReceiptRef(code=code(i), verified=True),
            stage=Stage.RETURN,
            score=Score.VERY_SATISFIED,
            comment=COMMENT,
            rated_at=at + timedelta(hours=2),
        )
        attribution = Attribution(
            "Q3", "CB002", "1.001193", "ho-tich", receipt_known=True, stage=Stage.RETURN
        )
        stored.append((at + timedelta(hours=2, seconds=1), rating, attribution))
        at += timedelta(seconds=1)
    attributed = ("Q1", "CB001", "1.001193", "ho-tich")
    extras = [
        (
            "walk_in",
            make_rating(seq=200, receipt=None, score=Score.SATISFIED),
            Attribution(*attributed, receipt_known=False),
        ),
        (
            "unknown_code",
            make_rating(seq=201, receipt=ReceiptRef(code=f"{UNIT}-261120-9999", verified=False)),
            Attribution(None, None, None, None, receipt_known=False, counted=False),
        ),
        (
            "suspect",
            make_rating(seq=202, receipt=ReceiptRef(code=f"{UNIT}-261120-8888", verified=False)),
            Attribution(None, None, None, None, False, counted=False, suspect=True),
        ),
        (
            "assisted",
            make_rating(
                seq=203,
                kiosk="paper",
                channel=Channel.PAPER,
                receipt=ReceiptRef(code=code(1), verified=False),
                stage=Stage.RETURN,
                score=Score.DISSATISFIED,
                comment=COMMENT,
            ),
            Attribution(*attributed, True, Stage.RETURN, entered_by="nhanvien1", assisted=True),
        ),
    ]
    at = at + timedelta(hours=3)
    for name, rating, attribution in extras:
        stored.append((at, rating, attribution))
        setattr(seeded, name, str(rating.id))
        at += timedelta(seconds=1)
    for when, rating, attribution in stored:
        with sessions.begin() as session:
            store_batch(session, [(rating, attribution)], when)
    in_order = sorted(
        (when, str(rating.id)) for when, rating, _ in stored if rating.receipt is not None
    )
    seeded.feed_ids = [rating_id for _, rating_id in in_order]
    seeded.last_stored = max(when for when, _, _ in stored)
    return seeded


@cache
def schema(kind: str) -> dict[str, Any]:
    """A committed JSON Schema (docs/schemas/), as a receiver reads it."""
    loaded: dict[str, Any] = json.loads((SCHEMAS / SCHEMA_FILES[kind]).read_text("utf-8"))
    return loaded


def schema_errors(kind: str, document: object) -> list[str]:
    """What the committed schema says is wrong with ``document`` (nothing: [])."""
    from jsonschema import Draft202012Validator, FormatChecker

    validator = Draft202012Validator(schema(kind), format_checker=FormatChecker())
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]
