"""The SUS release register: every published statistics cell, so that each new release is protected
against everything published before.

Revision ID: r17_release_register
Revises: r22_steward_users
Create Date: 2026-12-07 01:03:54.715081
"""
import sqlalchemy as sa
from alembic import op

revision = "r17_release_register"
down_revision = "r22_steward_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sus_release_cell',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('sheet', sa.String(length=64), nullable=False),
    sa.Column('table_name', sa.String(length=64), nullable=False),
    sa.Column('row_label', sa.String(length=128), nullable=False),
    sa.Column('column_label', sa.String(length=128), nullable=False),
    sa.Column('shown', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('min_cell', sa.Integer(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sus_release_cell')),
    sa.UniqueConstraint('period_start', 'period_end', 'scope', 'sheet', 'table_name', 'row_label', 'column_label', 'shown', 'value', name=op.f('uq_sus_release_cell_period_start'))
    )


def downgrade() -> None:
    op.drop_table('sus_release_cell')
