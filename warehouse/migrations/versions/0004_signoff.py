"""sign-off: frozen quarters and the latest build of every output folder

Revision ID: 0004_signoff
Revises: r22_steward_users
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_signoff"
down_revision = "0003_key_checks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=6), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signoff")),
        sa.UniqueConstraint("quarter", name=op.f("uq_signoff_quarter")),
    )
    op.create_table(
        "output_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("quarter", sa.String(length=6), nullable=True),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Text(), nullable=False),
        sa.Column("deidentified", sa.Integer(), nullable=False),
        sa.Column("cells", sa.Text(), nullable=True),
        sa.Column("signoff_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["signoff_id"], ["signoff.id"],
                                name=op.f("fk_output_view_signoff_id_signoff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_output_view")),
        sa.UniqueConstraint("kind", "folder", name=op.f("uq_output_view_kind")),
    )
    with op.batch_alter_table("output_view", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_output_view_quarter"), ["quarter"], unique=False)
        batch_op.create_index(batch_op.f("ix_output_view_signoff_id"), ["signoff_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("output_view", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_output_view_signoff_id"))
        batch_op.drop_index(batch_op.f("ix_output_view_quarter"))
    op.drop_table("output_view")
    op.drop_table("signoff")
