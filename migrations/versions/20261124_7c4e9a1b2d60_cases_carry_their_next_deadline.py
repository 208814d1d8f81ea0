"""Cases carry their soonest open deadline (next_due_at, next_due_kind), kept by the
flush that changes a deadline (portal/models/timeline.py): the queue sorts an
authority's open cases by it from the index of open cases alone.

Revision ID: 7c4e9a1b2d60
Revises: 5b1f0c2d7e43
Create Date: 2026-11-24 00:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '7c4e9a1b2d60'
down_revision = '5b1f0c2d7e43'
branch_labels = None
depends_on = None

BEFORE = ["id", "reference", "received_at", "harm_category", "source_type", "assigned_to_id"]
AFTER = [*BEFORE, "next_due_at", "next_due_kind"]

SOONEST = """(SELECT deadlines.{column} FROM deadlines
    WHERE deadlines.case_id = cases.id AND deadlines.met_at IS NULL
    ORDER BY deadlines.due_at, deadlines.kind LIMIT 1)"""


def _index(include):
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no INCLUDE: its index stays as it is
    op.drop_index("ix_cases_authority_status", table_name="cases")
    op.create_index(
        "ix_cases_authority_status", "cases", ["authority_id", "status"], postgresql_include=include
    )


def upgrade():
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "next_due_kind",
                sa.Enum(
                    "response",
                    "strategy_discussion",
                    "allegations_meeting",
                    "review_meeting",
                    "agency_review",
                    name="deadlinekind",
                    native_enum=False,
                    length=40,
                ),
                nullable=True,
            )
        )
    op.execute(
        "UPDATE cases SET next_due_at = " + SOONEST.format(column="due_at")
        + ", next_due_kind = " + SOONEST.format(column="kind")
        + " WHERE EXISTS (SELECT 1 FROM deadlines WHERE deadlines.case_id = cases.id"
        " AND deadlines.met_at IS NULL)"
    )
    _index(AFTER)


def downgrade():
    _index(BEFORE)
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("next_due_kind")
        batch_op.drop_column("next_due_at")
