"""index by case the tables a case page reads

Revision ID: 8fb8fb9582d5
Revises: 02e76c596421
Create Date: 2026-12-06 17:32:59.705834

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "8fb8fb9582d5"
down_revision = "02e76c596421"
branch_labels = None
depends_on = None

# Each table's rows are read by case on the case page (and deleted by case when a case
# is destroyed): without these, each read scanned every authority's rows.
INDEXES = {
    "ix_case_conclusions_case": "case_conclusions",
    "ix_onward_referrals_case": "onward_referrals",
    "ix_information_requests_case": "information_requests",
    "ix_meeting_invitees_case": "meeting_invitees",
}


def upgrade():
    for name, table in INDEXES.items():
        op.create_index(name, table, ["case_id"])


def downgrade():
    for name, table in INDEXES.items():
        op.drop_index(name, table_name=table)
