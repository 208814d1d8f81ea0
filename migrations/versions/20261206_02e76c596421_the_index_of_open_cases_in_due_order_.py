"""the index of open cases in due order, for the queue

Revision ID: 02e76c596421
Revises: 21cb770b4793
Create Date: 2026-12-06 17:11:50.444078

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "02e76c596421"
down_revision = "21cb770b4793"
branch_labels = None
depends_on = None

# The open statuses as they were at this revision (a later status needs its own
# migration of the index).
OPEN = sa.text(
    "status IN ('submitted', 'in_triage', 'advice_given', 'no_further_action', "
    "'insufficient_information', 'transferred', 'referral', 'strategy_discussion', "
    "'meetings', 'awaiting_agency', 'outcome', 'concluding_actions')"
)


def upgrade():
    op.create_index(
        "ix_cases_open_due",
        "cases",
        ["authority_id", "next_due_at", "received_at", "id"],
        postgresql_where=OPEN,
        sqlite_where=OPEN,
        postgresql_include=[
            "reference",
            "status",
            "harm_category",
            "source_type",
            "assigned_to_id",
            "next_due_kind",
            "destroyed_at",
        ],
    )


def downgrade():
    op.drop_index("ix_cases_open_due", table_name="cases")
