"""The migrations build exactly the schema the models describe, and old databases are adopted."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from hub.store.db import make_engine
from hub.store.models import Base


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_database_made_before_migrations_is_adopted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    Base.metadata.create_all(old)  # how the first versions created their tables
    old.dispose()
    engine = make_engine(url)
    assert "alembic_version" in inspect(engine).get_table_names()
    make_engine(url)  # opening again is a no-op
