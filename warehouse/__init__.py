"""The shared warehouse: SQLAlchemy models, Alembic migrations, bulk loading."""
