"""Who may use the hub's web side: staff accounts (argon2 password hashes, roles) and API tokens.

Both live in files under ``var/secrets/web/`` (mode 0600, never in the repository). Tokens are
stored as SHA-256 digests: a stolen file does not give a working token. Roles:

* ``officer``: a counter officer (cán bộ một cửa), tied to an officer code in the unit catalogue;
  issues, registers, reprints and records returns for themself.
* ``head``: a unit head (lãnh đạo); sees reports and follow-up (the dashboard).
* ``admin``: everything, including acting for any officer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

Role = Literal["officer", "head", "admin"]
ROLES: tuple[Role, ...] = ("officer", "head", "admin")
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)

_hasher = PasswordHasher()


class AccountError(ValueError):
    """A bad account operation; the message says what was wrong."""


@dataclass(frozen=True)
class Account:
    username: str
    role: Role
    officer: str | None  # the officer code an ``officer`` account acts as


def _read_json(path: Path) -> dict[str, dict[str, object]]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise AccountError(f"{path}: expected a JSON object")
    return data


def _write_private_json(path: Path, data: object) -> None:
    """Replace ``path`` atomically with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    os.replace(temporary, path)


class Accounts:
    """Staff logins, with a lock-out after repeated failures (per user name, in memory)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._failures: dict[str, tuple[int, datetime | None]] = {}

    def _users(self) -> dict[str, dict[str, object]]:
        return _read_json(self.path).get("users", {})  # type: ignore[return-value]

    def add(self, username: str, password: str, role: Role, officer: str | None = None) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{2,40}", username):
            raise AccountError(f"user name {username!r}: 2-40 letters, digits, - and _")
        if role not in ROLES:
            raise AccountError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        if role == "officer" and not officer:
            raise AccountError("an officer account needs the officer's code (e.g. CB001)")
        if len(password) < 10:
            raise AccountError("a password needs at least 10 characters")
        users = self._users()
        users[username] = {"hash": _hasher.hash(password), "role": role, "officer": officer}
        _write_private_json(self.path, {"users": users})

    def all(self) -> list[Account]:
        """Every account, by user name (no password hashes)."""
        return [account for name in sorted(self._users()) if (account := self.get(name))]

    def get(self, username: str) -> Account | None:
        entry = self._users().get(username)
        if entry is None:
            return None
        officer = entry.get("officer")
        return Account(username, entry["role"], officer if isinstance(officer, str) else None)  # type: ignore[arg-type]

    def login(self, username: str, password: str, now: datetime) -> Account | None:
        """The account if the password is right and the name is not locked out."""
        count, until = self._failures.get(username, (0, None))
        if until is not None and now < until:
            return None
        entry = self._users().get(username)
        stored = str(entry.get("hash", "")) if entry else ""
        try:
            if entry is not None and _hasher.verify(stored, password):
                self._failures.pop(username, None)
                return self.get(username)
        except (VerificationError, InvalidHashError):
            pass
        count += 1
        self._failures[username] = (0, now + LOCKOUT) if count >= MAX_FAILURES else (count, None)
        return None

    def locked(self, username: str, now: datetime) -> bool:
        until = self._failures.get(username, (0, None))[1]
        return until is not None and now < until


class ApiTokens:
    """Bearer tokens for other systems (the unit's one-stop software), stored as digests."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def create(self, name: str) -> str:
        token = secrets.token_urlsafe(32)
        tokens = _read_json(self.path).get("tokens", {})
        tokens[name] = _digest(token)
        _write_private_json(self.path, {"tokens": tokens})
        return token

    def check(self, token: str) -> str | None:
        """The name of the client the token belongs to, if any."""
        digest = _digest(token)
        for name, stored in _read_json(self.path).get("tokens", {}).items():
            if hmac.compare_digest(str(stored), digest):
                return name
        return None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def init_web_secrets(
    accounts_file: Path, api_tokens_file: Path, session_key_file: Path
) -> list[Path]:
    """First-run secrets: the cookie key, an ``admin`` login and a token for the one-stop
    software, each written once (mode 0600) next to the accounts; returns the files created."""
    created: list[Path] = []
    folder = accounts_file.parent
    if not session_key_file.exists():
        _write_private_text(session_key_file, secrets.token_hex(32))
        created.append(session_key_file)
    accounts = Accounts(accounts_file)
    if accounts.get("admin") is None:
        password = secrets.token_urlsafe(12)
        accounts.add("admin", password, "admin")
        _write_private_text(folder / "admin.password", password)
        created += [accounts_file, folder / "admin.password"]
    tokens = ApiTokens(api_tokens_file)
    if not _read_json(api_tokens_file).get("tokens", {}).get("one-stop"):
        _write_private_text(folder / "one-stop.token", tokens.create("one-stop"))
        created += [api_tokens_file, folder / "one-stop.token"]
    return created


def _write_private_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
