"""Tombstones keep the erased person's SUS consent periods, so a spell that arrives after the
erasure is counted anonymous or not exactly as it would have been had it arrived first.

Revision ID: r24_tombstone_sus_periods
Revises: 0005_signoff_ranges
Create Date: 2026-12-07 06:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "r24_tombstone_sus_periods"
down_revision = "0005_signoff_ranges"
branch_labels = None
depends_on = None


# plain ALTER TABLE on both backends (SQLite has dropped columns since 3.35): no batch copy of the
# table, so a downgrade that a later step refuses leaves no temporary table behind; and the drop
# is skipped when done already (SQLite's driver commits DDL on its own outside finsam's migrate())


def upgrade() -> None:
    op.add_column("erasure_tombstone", sa.Column("sus_periods", sa.String(length=400),
                                                 nullable=True))


def downgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("erasure_tombstone")}
    if "sus_periods" in columns:
        op.execute("ALTER TABLE erasure_tombstone DROP COLUMN sus_periods")
