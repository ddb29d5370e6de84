"""Where a database stands against this version's migrations, and a consistent copy of it.

Behind ``hailong db current|upgrade|backup``. Every hub process migrates the database it opens
(:func:`hub.store.db.make_engine`); these let an operator see and do it before a service starts,
and take a copy that restores to one moment: SQLite through its online backup API (a plain ``cp``
of a database in WAL mode can miss what sits in the ``-wal`` file, or copy a page mid-write),
PostgreSQL through ``pg_dump``'s custom format (one snapshot; ``pg_restore`` reads it).

The PostgreSQL password never appears on a command line, where ``ps`` shows it to every user: it
goes to ``pg_dump`` in a passfile of its own (mode 0600, deleted afterwards), as PostgreSQL's
documentation recommends over ``PGPASSWORD``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from hub.store.db import MIGRATIONS, make_engine


class MaintenanceError(RuntimeError):
    """The database is missing or out of reach, or ``pg_dump`` is missing or failed (its message
    included): said in one line, without a traceback."""


@dataclass(frozen=True)
class Revision:
    current: str | None  # None: empty, or made before migrations existed
    head: str

    @property
    def at_head(self) -> bool:
        return self.current == self.head


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None, f"no migrations in {MIGRATIONS}"
    return head


def current_revision(url: str) -> Revision:
    """The database's revision, read without migrating it (``make_engine`` would)."""
    parsed = make_url(url)
    _require_sqlite_file(parsed)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise _unreachable(parsed, exc) from exc
    finally:
        engine.dispose()
    return Revision(current, head_revision())


def upgrade_database(url: str) -> Revision:
    """Migrate to head exactly as a starting hub does (same lock, same schema check)."""
    try:
        make_engine(url).dispose()
    except OperationalError as exc:
        raise _unreachable(make_url(url), exc) from exc
    return current_revision(url)


def _unreachable(url: URL, exc: OperationalError) -> MaintenanceError:
    return MaintenanceError(f"cannot open {url.render_as_string(hide_password=True)}: {exc.orig}")


def backup_database(url: str, folder: Path, now: datetime | None = None) -> Path:
    """A consistent copy in ``folder``, named by the UTC time: ``hailong-<stamp>.sqlite3`` (a
    SQLite database) or ``hailong-<stamp>.dump`` (``pg_restore`` format). Mode 0600: it holds
    citizens' comments and contacts. Written under a temporary name and renamed when complete,
    so a file with the final name is always a whole backup."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise MaintenanceError(f"no backup for a {backend} database")
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"hailong-{stamp}.{'sqlite3' if backend == 'sqlite' else 'dump'}"
    if target.exists():
        raise MaintenanceError(f"{target} exists already")
    partial = target.with_name(target.name + ".partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        if backend == "sqlite":
            _sqlite_backup(_require_sqlite_file(parsed), partial)
        else:
            _pg_dump(parsed, partial)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _require_sqlite_file(url: URL) -> Path:
    """The SQLite file (connecting would create an empty one in its place)."""
    path = Path(url.database or "")
    if url.get_backend_name() == "sqlite" and not path.is_file():
        raise MaintenanceError(f"no SQLite database at {path}")
    return path


def _sqlite_backup(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


# libpq's environment variables for the connection parameters a database URL may carry.
_LIBPQ_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def pg_environment(url: URL, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with the URL's connection parameters as libpq variables, minus the password
    (see :func:`pg_passfile`); a URL parameter libpq has no variable for is refused rather than
    silently dropped."""
    env = dict(base)
    unknown = sorted(set(url.query) - set(_LIBPQ_ENV))
    if unknown:
        raise MaintenanceError(
            f"database_url parameters pg_dump cannot be given: {', '.join(unknown)}"
        )
    for key, value in url.query.items():
        env[_LIBPQ_ENV[key]] = value if isinstance(value, str) else value[-1]
    given = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username}
    env.update({key: str(value) for key, value in given.items() if value is not None})
    env["PGDATABASE"] = url.database or ""
    return env


@contextmanager
def pg_passfile(password: str | None, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """``env`` pointing libpq at a private passfile holding ``password`` (nothing without one:
    the operator's own ``~/.pgpass`` or ``PGPASSWORD`` then applies)."""
    if password is None:
        yield env
        return
    with tempfile.TemporaryDirectory(prefix="hailong-pg-") as private:  # mode 0700
        passfile = Path(private) / "pgpass"
        escaped = password.replace("\\", "\\\\").replace(":", "\\:")
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"*:*:*:*:{escaped}\n")
        env = {k: v for k, v in env.items() if k != "PGPASSWORD"}  # it would win over the file
        yield env | {"PGPASSFILE": str(passfile)}


def _pg_dump(url: URL, target: Path) -> None:
    binary = shutil.which("pg_dump")
    if binary is None:
        raise MaintenanceError("pg_dump not found: apt-get install postgresql-client")
    env = pg_environment(url, os.environ)
    with pg_passfile(url.password, env) as env:
        result = subprocess.run(
            [binary, "--format=custom", "--no-password", f"--file={target}"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise MaintenanceError(f"pg_dump exited {result.returncode}: {result.stderr.strip()}")
