"""Staff accounts: the same work for unknown and known names, server-side sessions, refusals."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.web import accounts as accounts_module
from hub.web.accounts import MAX_SESSIONS, SESSION_LIFETIME, AccountError, Accounts
from hub.web.lockout import THRESHOLD

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    made = Accounts(tmp_path / "web" / "accounts.json")
    made.add("lan", PASSWORD, "officer", "CB001")
    made.add("admin", PASSWORD, "admin")
    return made


def test_unknown_and_known_names_cost_one_argon2_verification_each(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time an answer takes is the argon2 verification's: done once whether the name exists
    or not (before, an unknown name skipped it and answered ~100 times faster)."""
    hashes: list[str] = []
    real = accounts_module._hasher

    class Counting:
        def verify(self, stored: str, password: str) -> bool:
            hashes.append(stored)
            return real.verify(stored, password)

    monkeypatch.setattr(accounts_module, "_hasher", Counting())
    assert accounts.login("nobody", PASSWORD, "192.0.2.1", T0).account is None
    assert accounts.login("lan", "wrong password", "192.0.2.1", T0).account is None
    assert len(hashes) == 2
    assert all(h.startswith("$argon2id$") for h in hashes)  # a real hash both times
    params = {h.split("$")[3] for h in hashes}
    assert len(params) == 1  # the same cost parameters


@pytest.mark.parametrize(
    "entry", [{"role": "officer"}, {"role": "officer", "officer": ""}, {"role": "chief"}]
)
def test_a_hand_edited_entry_add_would_refuse_cannot_log_in(
    accounts: Accounts, entry: dict[str, str]
) -> None:
    """An officer login without an officer code would be scoped to the ratings nobody owns."""
    users = accounts_module._read_json(accounts.path)["users"]
    users["lan"] = {**users["lan"], "officer": None} | entry
    accounts_module._write_private_json(accounts.path, {"users": users})
    assert accounts.get("lan") is None
    assert accounts.login("lan", PASSWORD, "192.0.2.1", T0).account is None


def test_refusals_are_counted_by_reason(accounts: Accounts) -> None:
    accounts.login("nobody", PASSWORD, "192.0.2.1", T0)
    for _ in range(THRESHOLD + 2):
        accounts.login("lan", "wrong password", "192.0.2.1", T0)
    assert dict(accounts.refused_by_reason()) == {
        "wrong_password": THRESHOLD,
        "unknown_user": 1,
        "locked": 2,
    }


def test_a_locked_pair_refuses_even_the_right_password_then_lets_it_in(
    accounts: Accounts,
) -> None:
    for _ in range(THRESHOLD):
        accounts.login("admin", "wrong password", "192.0.2.1", T0)
    locked = accounts.login("admin", PASSWORD, "192.0.2.1", T0 + timedelta(minutes=1))
    assert locked.account is None
    assert locked.locked_until is not None
    assert accounts.login("admin", PASSWORD, "192.0.2.2", T0).account is not None  # own desk
    assert accounts.login("admin", PASSWORD, "192.0.2.1", locked.locked_until).account is not None


def test_sessions_live_on_the_server(accounts: Accounts) -> None:
    sid = accounts.open_session("lan", T0)
    assert accounts.session_account(sid, "lan", T0) is not None
    assert accounts.session_account(sid, "admin", T0) is None  # not someone else's
    assert accounts.session_account("made-up", "lan", T0) is None
    end = T0 + SESSION_LIFETIME
    assert accounts.session_account(sid, "lan", end - timedelta(seconds=1)) is not None
    assert accounts.session_account(sid, "lan", end) is None
    accounts.close_session(sid)
    assert accounts.session_account(sid, "lan", T0) is None
    stored = accounts.sessions_path.read_text()
    assert sid not in stored  # digests only
    assert stat.S_IMODE(accounts.sessions_path.stat().st_mode) == 0o600


def test_a_new_password_ends_every_session_of_that_user_only(accounts: Accounts) -> None:
    lan = [accounts.open_session("lan", T0) for _ in range(3)]
    admin = accounts.open_session("admin", T0)
    accounts.add("lan", "a brand new password", "officer", "CB001")  # `hailong staff add`
    assert all(accounts.session_account(sid, "lan", T0) is None for sid in lan)
    assert accounts.session_account(admin, "admin", T0) is not None


def test_changing_ones_own_password_needs_the_current_one(accounts: Accounts) -> None:
    sid = accounts.open_session("lan", T0)
    assert not accounts.change_password("lan", "not the password", "a brand new password")
    assert accounts.session_account(sid, "lan", T0) is not None
    with pytest.raises(AccountError, match="at least 10"):
        accounts.change_password("lan", PASSWORD, "short")
    with pytest.raises(AccountError, match="at most 200"):
        accounts.change_password("lan", PASSWORD, "x" * 201)
    assert accounts.change_password("lan", PASSWORD, "x" * 200)
    assert accounts.session_account(sid, "lan", T0) is None
    assert accounts.login("lan", "x" * 200, "192.0.2.1", T0).account is not None
    assert accounts.login("lan", PASSWORD, "192.0.2.1", T0).account is None
    account = accounts.get("lan")
    assert account is not None
    assert (account.role, account.officer) == ("officer", "CB001")  # only the password changed


def test_a_user_holds_a_bounded_number_of_sessions(accounts: Accounts) -> None:
    sids = [accounts.open_session("lan", T0 + timedelta(seconds=n)) for n in range(MAX_SESSIONS)]
    assert all(accounts.session_account(s, "lan", T0) for s in sids)
    newest = accounts.open_session("lan", T0 + timedelta(minutes=5))
    assert accounts.session_account(sids[0], "lan", T0) is None  # the oldest went
    assert accounts.session_account(sids[1], "lan", T0) is not None
    assert accounts.session_account(newest, "lan", T0) is not None


def test_expired_sessions_are_dropped_when_one_opens(accounts: Accounts) -> None:
    old = accounts.open_session("lan", T0)
    accounts.open_session("admin", T0 + SESSION_LIFETIME)
    assert len(accounts._sessions()) == 1
    assert accounts.session_account(old, "lan", T0) is None


def test_a_damaged_session_list_logs_everyone_out_and_heals(accounts: Accounts) -> None:
    sid = accounts.open_session("lan", T0)
    accounts.sessions_path.write_text("{not json")
    assert accounts.session_account(sid, "lan", T0) is None
    fresh = accounts.open_session("lan", T0)
    assert accounts.session_account(fresh, "lan", T0) is not None
