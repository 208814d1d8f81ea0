"""The audit trail becomes a hash chain: each event gets its number and a hash over the
event before and itself, and the head row keeps the last link.

The events already there are chained here, in the order they happened. The append-only
triggers now let an event be given its number and hash once (as its transaction
commits) and still refuse every other change and every DELETE.

Revision ID: ccd406202fb0
Revises: c25e0d9d7e72
Create Date: 2026-12-06 11:44:03.896916

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ccd406202fb0'
down_revision = 'c25e0d9d7e72'
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = "audit_events is append-only"
# Every column but the two the chain sets.
FIXED = (
    "id", "occurred_at", "kind", "actor_id", "authority_id", "organisation_id",
    "target_user_id", "case_id", "address_hash",
)


def upgrade():
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('chain_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    # Plain ADD COLUMN, not a batch: SQLite would copy the table and lose its triggers.
    op.add_column('audit_events', sa.Column('seq', sa.BigInteger(), nullable=True))
    op.add_column('audit_events', sa.Column('chain_hash', sa.String(length=64), nullable=True))
    op.create_index('uq_audit_events_seq', 'audit_events', ['seq'], unique=True)
    _drop_triggers()
    _create_triggers(chain_once=True)
    from portal.audit_chain import chain_unchained

    chain_unchained(op.get_bind())


def downgrade():
    _drop_triggers()
    op.drop_index('uq_audit_events_seq', table_name='audit_events')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('chain_hash')
        batch_op.drop_column('seq')
    _create_triggers(chain_once=False)
    op.drop_table('audit_chain_head')


def _create_triggers(chain_once):
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        unchanged = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in FIXED)
        allow = (
            f"""
                IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
                   AND {unchanged} AND NEW.detail::text = OLD.detail::text THEN
                    RETURN NEW;
                END IF;"""
            if chain_once
            else ""
        )
        op.execute(f"""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN{allow}
                RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}';
            END;
            $$
        """)
        op.execute("""
            CREATE TRIGGER audit_events_no_update_or_delete
            BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
        """)
        return
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in (*FIXED, "detail"))
    when = (
        f"WHEN NOT (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND {unchanged})"
        if chain_once
        else ""
    )
    for action, condition in (("UPDATE", when), ("DELETE", "")):
        op.execute(f"""
            CREATE TRIGGER audit_events_no_{action.lower()}
            BEFORE {action} ON audit_events {condition}
            BEGIN
                SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}');
            END
        """)


def _drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_update_or_delete ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
