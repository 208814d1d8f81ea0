"""The queue's indexes cover what it reads (PostgreSQL INCLUDE): an authority's open
cases and their open deadlines come from the indexes alone, not from rows scattered among
years of closed cases (portal/casework/queue.py).

Revision ID: 5b1f0c2d7e43
Revises: 91acc02970bf
Create Date: 2026-11-23 23:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b1f0c2d7e43'
down_revision = '91acc02970bf'
branch_labels = None
depends_on = None

CASES = ["id", "reference", "received_at", "harm_category", "source_type", "assigned_to_id"]
DEADLINES = ["case_id", "kind"]


def _recreate(cases_include, deadlines_include):
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no INCLUDE: its indexes stay as they are
    op.drop_index("ix_cases_authority_status", table_name="cases")
    op.create_index(
        "ix_cases_authority_status",
        "cases",
        ["authority_id", "status"],
        postgresql_include=cases_include,
    )
    op.drop_index("ix_deadlines_open", table_name="deadlines")
    op.create_index(
        "ix_deadlines_open",
        "deadlines",
        ["authority_id", "met_at", "due_at"],
        postgresql_include=deadlines_include,
    )


def upgrade():
    _recreate(CASES, DEADLINES)


def downgrade():
    _recreate([], [])
