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


def upgrade() -> None:
    with op.batch_alter_table("erasure_tombstone") as batch:
        batch.add_column(sa.Column("sus_periods", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("erasure_tombstone") as batch:
        batch.drop_column("sus_periods")
