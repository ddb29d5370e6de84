"""Alembic migrations of the hub's database (run automatically when the hub opens it)."""
