"""Column types that carry the store's rules, so no query or row needs a helper to follow them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, TypeDecorator


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone was about to be stored or compared with a stored instant."""


class UtcDateTime(TypeDecorator[datetime]):
    """An instant: ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL, UTC text on SQLite, and an aware
    UTC ``datetime`` in Python on both.

    SQLite keeps no zone: it stored the wall clock of whatever offset it was given and handed back
    naive values, so every reader had to guess (``_aware`` helpers in ten places) and every writer
    had to remember to convert first. Here every value goes in as UTC, a naive one is refused
    (nobody can say which clock it was read from), and every value comes out aware in UTC,
    whatever zone the PostgreSQL session is in. The DDL is ``DateTime(timezone=True)``'s: the
    schema, and the migrations that made it, are unchanged.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise NaiveDatetimeError(
                f"{value.isoformat()} has no time zone: a stored instant needs one "
                "(datetime.now(UTC), not datetime.now())"
            )
        return value if value.tzinfo is UTC else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: the UTC written above, without its zone
            return value.replace(tzinfo=UTC)
        return value if value.tzinfo is UTC else value.astimezone(UTC)
