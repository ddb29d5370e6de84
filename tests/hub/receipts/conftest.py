"""A real SQLite receipt register per test."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.receipt import KeyRing
from hailong.settings import Unit
from hub.receipts.issuing import IssuedReceipt, issue_receipt
from hub.store.db import make_engine, session_factory

BASE_URL = "https://hailong.example.gov.vn"
NOW = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return session_factory(make_engine(f"sqlite:///{tmp_path / 'hub.db'}"))


@pytest.fixture
def issued(sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing) -> IssuedReceipt:
    return issue_receipt(
        sessions,
        unit,
        keyring,
        BASE_URL,
        counter="Q3",
        officer="CB005",
        procedure="2.000575",
        now=NOW,
    )
