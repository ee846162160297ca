"""SQLAlchemy 2 (async) storage behind core's ports: SQLite by default, PostgreSQL by URL."""
