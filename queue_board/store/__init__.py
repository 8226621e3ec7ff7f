"""The event store: the log as rows (SQLAlchemy Core on SQLite or PostgreSQL), tokens, Alembic migrations."""
