"""Who may use the hub's web side: staff accounts (argon2 password hashes, roles), their live
sessions, and API tokens.

All live in files under ``var/secrets/web/`` (mode 0600, never in the repository). Tokens are
stored as SHA-256 digests: a stolen file does not give a working token. So are session ids: the
cookie carries the id, the server keeps its digest, and a session is alive only while the server
has it. Logging out forgets it; a password change forgets every session of that user, so a cookie
copied before either no longer works. Roles:

* ``officer``: a counter officer (cán bộ một cửa), tied to an officer code in the unit catalogue;
  issues, registers, reprints and records returns for themself.
* ``head``: a unit head (lãnh đạo); sees reports and follow-up (the dashboard).
* ``admin``: everything, including acting for any officer.

An officer login may key paper survey forms and assisted ratings only when the unit designated it a
paper clerk (``paper_clerk``, ``hailong staff add --paper-clerk``; issue 17): the citizens' answers
then pass through a few named hands, never any officer's. Heads and administrators always may. An
account saved before the flag existed has none and is no clerk.

Each login is also scoped to a unit (``unit``, a unit code; issue 17): a province account's scope
is the province, the top of the hub's unit tree. What a scope lets a login see is decided in
:mod:`hub.domain.access`. An account saved before scopes existed has none and is taken as the
hub's home unit, which is what it saw then.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.web.lockout import LoginThrottle

Role = Literal["officer", "head", "admin"]
ROLES: tuple[Role, ...] = ("officer", "head", "admin")
SESSION_LIFETIME = timedelta(hours=12)  # one working day, as the cookie's max-age
MAX_SESSIONS = 20  # per user; the oldest is forgotten past this
REFUSALS = ("wrong_password", "unknown_user", "locked")  # why a login was refused
UNIT_CODE = re.compile(r"[0-9A-Z][0-9A-Z.]{2,19}")  # as hailong.settings.UnitInfo.code

_hasher = PasswordHasher()
logger = logging.getLogger(__name__)
# Unknown user names are checked against this hash, so they take as long as known ones.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A bad account operation; the message says what was wrong."""


@dataclass(frozen=True)
class Account:
    username: str
    role: Role
    officer: str | None  # the officer code an ``officer`` account acts as
    unit: str | None = None  # the unit the login is scoped to; None: the hub's home unit
    paper_clerk: bool = False  # an officer the unit designated to key paper forms

    @property
    def keys_paper(self) -> bool:
        """May key paper forms and assisted ratings: a head, an administrator, or an officer
        designated a paper clerk (:mod:`hub.domain.paper` still refuses their own dossiers)."""
        return self.role in ("head", "admin") or self.paper_clerk

    def scope(self, home: str) -> str:
        """The unit code this login is scoped to, ``home`` for an account from before scopes."""
        return self.unit or home


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt gave: the account, or why not (``locked_until`` when locked)."""

    account: Account | None
    locked_until: datetime | None = None


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
    """Staff logins and their sessions, with a lock-out per (user name, source address).

    Writers (the web app, ``hailong staff add``) take an exclusive ``flock`` on a lock file
    beside the accounts, so a login recording its session never undoes a password changed at
    the same moment from the command line. Readers need no lock: files are replaced atomically.
    """

    def __init__(self, path: Path, throttle: LoginThrottle | None = None) -> None:
        self.path = path
        self.sessions_path = path.with_name(path.stem + ".sessions.json")
        self.throttle = throttle or LoginThrottle()
        self.refused: Counter[str] = Counter()  # refused logins by reason, for /metrics

    @contextmanager
    def _writing(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _users(self) -> dict[str, dict[str, object]]:
        return _read_json(self.path).get("users", {})  # type: ignore[return-value]

    def add(
        self,
        username: str,
        password: str,
        role: Role,
        officer: str | None = None,
        unit: str | None = None,
        *,
        paper_clerk: bool = False,
    ) -> None:
        """Create a login, or update one (a new password): an update ends its sessions.
        ``unit`` scopes it (None: the hub's home unit); ``paper_clerk`` designates an officer to
        key paper forms (an update without it takes the designation away)."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{2,40}", username):
            raise AccountError(f"user name {username!r}: 2-40 letters, digits, - and _")
        if role not in ROLES:
            raise AccountError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        if role == "officer" and not officer:
            raise AccountError("an officer account needs the officer's code (e.g. CB001)")
        if unit is not None and not UNIT_CODE.fullmatch(unit):
            raise AccountError(f"unit {unit!r}: expected a unit code such as 000.00.20.H41")
        if paper_clerk and role != "officer":
            raise AccountError("only an officer is designated a paper clerk (heads and admins may)")
        _check_password(password)
        entry: dict[str, object] = {
            "hash": _hasher.hash(password),
            "role": role,
            "officer": officer,
        }
        if unit is not None:
            entry["unit"] = unit
        if paper_clerk:  # written only when set: a file of no clerks reads as it always did
            entry["paper_clerk"] = True
        with self._writing():
            users = self._users()
            users[username] = entry
            _write_private_json(self.path, {"users": users})
            self._end_sessions(lambda user: user == username)

    def change_password(self, username: str, current: str, new: str) -> bool:
        """The user's own change: False if ``current`` is wrong. Ends every session of the user
        (the caller opens a new one for the browser that made the change)."""
        entry = self._users().get(username)
        if entry is None or not _verify(str(entry.get("hash", "")), current):
            return False
        _check_password(new)
        with self._writing():
            users = self._users()
            if username not in users:
                return False
            users[username] = {**users[username], "hash": _hasher.hash(new)}
            _write_private_json(self.path, {"users": users})
            self._end_sessions(lambda user: user == username)
        return True

    def all(self) -> list[Account]:
        """Every account, by user name (no password hashes)."""
        return [account for name in sorted(self._users()) if (account := self.get(name))]

    def get(self, username: str) -> Account | None:
        """The account, or None: also for an entry edited by hand into one :meth:`add` refuses
        (an unknown role, an officer without a code), which could not be scoped."""
        entry = self._users().get(username)
        role, officer = (entry or {}).get("role"), (entry or {}).get("officer")
        unit = (entry or {}).get("unit")
        if role not in ROLES or (role == "officer" and not (isinstance(officer, str) and officer)):
            return None
        if unit is not None and not (isinstance(unit, str) and UNIT_CODE.fullmatch(unit)):
            return None  # a scope edited by hand into garbage: refused, never widened
        clerk = (entry or {}).get("paper_clerk") is True  # anything else edited in: no clerk
        return Account(username, role, officer if isinstance(officer, str) else None, unit, clerk)

    def paper_clerk(self, officer: str, unit: str, home: str) -> bool:
        """Whether an officer login of ``unit`` acting as ``officer`` is a designated paper
        clerk (the API names the officer at the one-stop software's keyboard by code)."""
        return any(
            a.role == "officer" and a.officer == officer and a.scope(home) == unit and a.paper_clerk
            for a in self.all()
        )

    def login(self, username: str, password: str, address: str, now: datetime) -> LoginResult:
        """The account if the password is right and this name is not locked at this address.

        A known and an unknown name cost the same argon2 verification, so the answer's time does
        not tell which names exist. A locked pair is refused without checking the password.
        """
        until = self.throttle.locked_until(username, address, now)
        if until is not None:
            self.refused["locked"] += 1
            return LoginResult(None, until)
        entry = self._users().get(username)
        stored = str(entry.get("hash", "")) if entry is not None else _DUMMY_HASH
        if _verify(stored, password) and entry is not None:
            self.throttle.succeeded(username, address)
            return LoginResult(self.get(username))
        self.refused["wrong_password" if entry is not None else "unknown_user"] += 1
        return LoginResult(None, self.throttle.failed(username, address, now))

    def refused_by_reason(self) -> tuple[tuple[str, int], ...]:
        """Refused logins since start, every reason listed (0 too), for /metrics."""
        return tuple((reason, self.refused[reason]) for reason in REFUSALS)

    # --- sessions ---------------------------------------------------------------------------

    def _sessions(self) -> dict[str, dict[str, str]]:
        """The live sessions; a damaged file counts as none (everyone logs in again) rather than
        locking every staff page behind an error."""
        try:
            found = _read_json(self.sessions_path).get("sessions", {})
        except (ValueError, OSError) as exc:
            logger.warning("ignoring the unreadable session list %s: %s", self.sessions_path, exc)
            return {}
        return found if isinstance(found, dict) else {}  # type: ignore[return-value]

    def open_session(self, username: str, now: datetime) -> str:
        """A new session id for ``username`` (the cookie's); the server keeps its digest."""
        sid = secrets.token_urlsafe(32)
        with self._writing():
            live = {
                key: value
                for key, value in self._sessions().items()
                if datetime.fromisoformat(value["expires"]) > now
            }
            mine = sorted(
                (value["expires"], key) for key, value in live.items() if value["user"] == username
            )
            for _expires, key in mine[: max(0, len(mine) - MAX_SESSIONS + 1)]:
                del live[key]
            live[_digest(sid)] = {
                "user": username,
                "expires": (now + SESSION_LIFETIME).isoformat(),
            }
            _write_private_json(self.sessions_path, {"sessions": live})
        return sid

    def session_account(self, sid: str, username: str, now: datetime) -> Account | None:
        """The account of a live session: the server still has it, for this user, unexpired."""
        found = self._sessions().get(_digest(sid))
        if found is None or not hmac.compare_digest(found.get("user", ""), username):
            return None
        if datetime.fromisoformat(found["expires"]) <= now:
            return None
        return self.get(username)

    def close_session(self, sid: str) -> None:
        key = _digest(sid)
        with self._writing():
            live = self._sessions()
            if live.pop(key, None) is not None:
                _write_private_json(self.sessions_path, {"sessions": live})

    def _end_sessions(self, whose: Callable[[str], bool]) -> None:
        """Forget the sessions of the users ``whose`` selects (the write lock is held)."""
        live = self._sessions()
        kept = {key: value for key, value in live.items() if not whose(value["user"])}
        if len(kept) != len(live):
            _write_private_json(self.sessions_path, {"sessions": kept})


def _check_password(password: str) -> None:
    if len(password) < 10:
        raise AccountError("a password needs at least 10 characters")
    if len(password) > 200:
        raise AccountError("a password has at most 200 characters")


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class ApiClient:
    """The system a bearer token belongs to, and the unit it acts in (issue 17)."""

    name: str
    unit: str | None = None  # None: the hub's home unit (every token from before unit scopes)

    def scope(self, home: str) -> str:
        """The unit code the token acts in, ``home`` for a token without a scope."""
        return self.unit or home


TOKEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,39}")


class ApiTokens:
    """Bearer tokens for other systems (a unit's one-stop software), stored as digests.

    A token acts in one unit, as a login is scoped to one: on a hub serving a province each
    commune's one-stop software gets its own token (``hailong token add NAME --unit CODE``) and
    reaches that unit's receipts only. The file keeps ``tokens`` (name: digest) as it always did,
    and the scopes apart in ``units`` (name: unit code), so a file written before scopes reads
    unchanged: its tokens act in the hub's home unit.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def create(self, name: str, unit: str | None = None) -> str:
        """A new token for ``name`` (replacing its old one) acting in ``unit`` (None: the
        hub's home unit); only the digest is kept, the token is returned once."""
        if not TOKEN_NAME.fullmatch(name):
            raise AccountError(f"token name {name!r}: 2-40 letters, digits, '.', '-' and '_'")
        if unit is not None and not UNIT_CODE.fullmatch(unit):
            raise AccountError(f"unit {unit!r}: expected a unit code such as 000.00.20.H41")
        token = secrets.token_urlsafe(32)
        data = _read_json(self.path)
        tokens, units = dict(data.get("tokens", {})), dict(data.get("units", {}))
        tokens[name] = _digest(token)
        units.pop(name, None)
        if unit is not None:
            units[name] = unit
        saved: dict[str, object] = {"tokens": tokens}
        if units:  # written only when set: a file of home-unit tokens reads as it always did
            saved["units"] = units
        _write_private_json(self.path, saved)
        return token

    def check(self, token: str) -> str | None:
        """The name of the client the token belongs to, if any."""
        found = self.client(token)
        return found.name if found else None

    def client(self, token: str) -> ApiClient | None:
        """The client the token belongs to and the unit it acts in, if the token is known."""
        digest = _digest(token)
        data = _read_json(self.path)
        for name, stored in data.get("tokens", {}).items():
            if hmac.compare_digest(str(stored), digest):
                unit = data.get("units", {}).get(name)
                if unit is not None and not (isinstance(unit, str) and UNIT_CODE.fullmatch(unit)):
                    logger.warning("API token %s: ignoring its bad unit %r", name, unit)
                    return None  # a damaged scope acts nowhere rather than in the home unit
                return ApiClient(name, unit)
        return None

    def all(self) -> list[ApiClient]:
        """Every token's client and unit (never the token: only its digest is kept)."""
        data = _read_json(self.path)
        units = data.get("units", {})
        return [
            ApiClient(name, unit if isinstance(unit := units.get(name), str) else None)
            for name in sorted(data.get("tokens", {}))
        ]

    def revoke(self, name: str) -> bool:
        """Forget ``name``'s token (it stops working at once); False if there was none."""
        data = _read_json(self.path)
        tokens, units = dict(data.get("tokens", {})), dict(data.get("units", {}))
        if tokens.pop(name, None) is None:
            return False
        units.pop(name, None)
        saved: dict[str, object] = {"tokens": tokens}
        if units:
            saved["units"] = units
        _write_private_json(self.path, saved)
        return True


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
