"""key check values: the warehouse knows its keys without holding them

A check value per key role (pseudonym, vault) lets every run refuse a wrong key before it writes
anything; role ``erasure`` keeps erased people's tombstones recognisable across a key rotation.

Revision ID: 0003_key_checks
Revises: r22_steward_users
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_key_checks"
down_revision = "r22_steward_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_check",
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_key_check")),
    )


def downgrade() -> None:
    op.drop_table("key_check")
