"""sign-off of ranges: a sign-off and an output folder cover a span of quarters, first to last

Revision ID: 0005_signoff_ranges
Revises: r17_release_register

Until now a sign-off was of one quarter, and an output folder that covers several (the
årsredovisning, a year's SUS statistics) either had the quarter it ends in or none. Now both carry
the span they cover, and a sign-off freezes the folders of exactly its span.

Data: a sign-off of a quarter becomes the span of that quarter, and so do the folders it froze
(they stay frozen, with their corrections where they were). A folder not yet frozen gets the span
its last path part names (``2024Q2``, ``2024Q1_2024Q4``); one named otherwise (``arsredovisning/
2024``) gets none until the next run builds it again with its span.
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0005_signoff_ranges"
down_revision = "r17_release_register"
branch_labels = None
depends_on = None

_QUARTER = r"\d{4}Q[1-4]"
_NAMED = re.compile(rf"(?P<first>{_QUARTER})(?:_(?P<last>{_QUARTER}))?")

_signoff = sa.table("signoff", sa.column("id", sa.Integer), sa.column("quarter", sa.String),
                    sa.column("first_quarter", sa.String), sa.column("last_quarter", sa.String))
_view = sa.table("output_view", sa.column("id", sa.Integer), sa.column("folder", sa.String),
                 sa.column("quarter", sa.String), sa.column("signoff_id", sa.Integer),
                 sa.column("first_quarter", sa.String), sa.column("last_quarter", sa.String))


def _named_span(folder: str) -> tuple[str | None, str | None]:
    """The span the last path part of ``folder`` that names quarters names."""
    for part in reversed(folder.split("/")):
        match = _NAMED.fullmatch(part)
        if match:
            return match["first"], match["last"] or match["first"]
    return None, None


def _detached():
    """SQLite rebuilds ``signoff`` (copy, drop, rename) to change its unique constraint, and its
    foreign keys are on: dropping it while frozen folders point to it fails, and the pragma
    cannot be turned off inside the migration's transaction. So the folders let go of their
    sign-offs while it is rebuilt (its ids are copied as they are) and take them back after."""
    connection = op.get_bind()
    frozen = connection.execute(sa.select(_view.c.id, _view.c.signoff_id)
                                .where(_view.c.signoff_id.isnot(None))).all()
    connection.execute(sa.update(_view).values(signoff_id=None))
    return frozen


def _reattached(frozen) -> None:
    connection = op.get_bind()
    for identifier, signoff in frozen:
        connection.execute(sa.update(_view).where(_view.c.id == identifier)
                           .values(signoff_id=signoff))


def upgrade() -> None:
    with op.batch_alter_table("signoff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_quarter", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("last_quarter", sa.String(length=6), nullable=True))
    with op.batch_alter_table("output_view", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_quarter", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("last_quarter", sa.String(length=6), nullable=True))

    connection = op.get_bind()
    connection.execute(sa.update(_signoff).values(first_quarter=_signoff.c.quarter,
                                                  last_quarter=_signoff.c.quarter))
    rows = connection.execute(sa.select(_view.c.id, _view.c.folder, _view.c.quarter,
                                        _view.c.signoff_id)).mappings().all()
    for row in rows:
        if row["signoff_id"] is not None:
            # frozen by a quarter's sign-off: it keeps that quarter, so it stays that sign-off's
            first = last = row["quarter"]
        else:
            first, last = _named_span(row["folder"])
        connection.execute(sa.update(_view).where(_view.c.id == row["id"])
                           .values(first_quarter=first, last_quarter=last))

    frozen = _detached()
    with op.batch_alter_table("signoff", schema=None) as batch_op:
        batch_op.alter_column("first_quarter", existing_type=sa.String(length=6), nullable=False)
        batch_op.alter_column("last_quarter", existing_type=sa.String(length=6), nullable=False)
        batch_op.drop_constraint("uq_signoff_quarter", type_="unique")
        batch_op.drop_column("quarter")
        batch_op.create_unique_constraint(batch_op.f("uq_signoff_first_quarter"),
                                          ["first_quarter", "last_quarter"])
    _reattached(frozen)
    with op.batch_alter_table("output_view", schema=None) as batch_op:
        batch_op.drop_index("ix_output_view_quarter")
        batch_op.drop_column("quarter")
        batch_op.create_index("ix_output_view_span", ["first_quarter", "last_quarter"],
                              unique=False)


def downgrade() -> None:
    connection = op.get_bind()
    ranges = connection.execute(sa.select(sa.func.count()).select_from(_signoff).where(
        _signoff.c.first_quarter != _signoff.c.last_quarter)).scalar_one()
    if ranges:
        # the older schema has one quarter per sign-off: going back would unfreeze these
        raise RuntimeError(f"{ranges} signeringar av flera kvartal finns; de kan inte uttryckas "
                           "i det äldre schemat. Inget har ändrats.")
    with op.batch_alter_table("signoff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quarter", sa.String(length=6), nullable=True))
    with op.batch_alter_table("output_view", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quarter", sa.String(length=6), nullable=True))
    connection.execute(sa.update(_signoff).values(quarter=_signoff.c.first_quarter))
    # a range's folder had no quarter in the older schema
    connection.execute(sa.update(_view).where(_view.c.first_quarter == _view.c.last_quarter)
                       .values(quarter=_view.c.first_quarter))
    frozen = _detached()
    with op.batch_alter_table("signoff", schema=None) as batch_op:
        batch_op.drop_constraint("uq_signoff_first_quarter", type_="unique")
        batch_op.drop_column("first_quarter")
        batch_op.drop_column("last_quarter")
        batch_op.alter_column("quarter", existing_type=sa.String(length=6), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_signoff_quarter"), ["quarter"])
    _reattached(frozen)
    with op.batch_alter_table("output_view", schema=None) as batch_op:
        batch_op.drop_index("ix_output_view_span")
        batch_op.drop_column("first_quarter")
        batch_op.drop_column("last_quarter")
        batch_op.create_index(batch_op.f("ix_output_view_quarter"), ["quarter"], unique=False)
