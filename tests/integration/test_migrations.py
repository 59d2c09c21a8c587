"""The migrations build exactly the tables the models describe, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from warehouse.db import alembic_config
from warehouse.models import Base


def test_upgraded_schema_matches_the_models_and_the_steward_tables_go_down_again(engine):
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        assert {"steward_user", "steward_session"} <= set(inspect(connection).get_table_names())
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    assert "held_row" in tables and not {"steward_user", "steward_session"} & tables
