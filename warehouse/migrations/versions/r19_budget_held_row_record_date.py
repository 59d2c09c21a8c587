"""held_row.record_date: the held record's own date, for the reports of a period

Revision ID: r19_budget
Revises: 0001
Create Date: 2026-12-06

A ledger row held for an unknown Projekt belongs to the period of its booking date: the budget
follow-up, delårsrapport and årsredovisning count only the held rows of their own period. Rows
held before this revision, and rows whose date could not be parsed, have no date.
"""
import sqlalchemy as sa
from alembic import op

revision = "r19_budget"
down_revision = "0001"
branch_labels = None
depends_on = None


def _has_record_date() -> bool:
    columns = sa.inspect(op.get_bind()).get_columns("held_row")
    return any(column["name"] == "record_date" for column in columns)


def upgrade() -> None:
    # The ingestion rework's own migration adds the same column: chained after it, this one
    # finds the column there and changes nothing.
    if _has_record_date():
        return
    with op.batch_alter_table("held_row", schema=None) as batch_op:
        batch_op.add_column(sa.Column("record_date", sa.Date(), nullable=True))


def downgrade() -> None:
    if not _has_record_date():
        return
    with op.batch_alter_table("held_row", schema=None) as batch_op:
        batch_op.drop_column("record_date")
