"""steward users and sessions for the steward's web app

Revision ID: r22_steward_users
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "r22_steward_users"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "steward_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_steward_user")),
        sa.UniqueConstraint("name", name=op.f("uq_steward_user_name")),
    )
    op.create_table(
        "steward_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("via_proxy", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_steward_session")),
    )
    with op.batch_alter_table("steward_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_steward_session_user_name"), ["user_name"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("steward_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_steward_session_user_name"))
    op.drop_table("steward_session")
    op.drop_table("steward_user")
