"""Database adapter (SQLAlchemy 2): SQLite by default, PostgreSQL supported."""
