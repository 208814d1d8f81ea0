"""Encrypted personal fields, data keys and blind indexes.

Account e-mails, names and TOTP secrets, invitation e-mails and names, and outbox
recipients and bodies move from clear text to sealed bytes (the portal's envelope,
under the deployment's data key, which this migration creates). Account e-mails get a
blind index; sessions, whose data was stored in clear, are ended.

It uses the running app's keyring (current_app): the keys must exist before it runs
(`flask --app wsgi keys init`, which `make run` does).

Revision ID: 3f98d75c0d5b
Revises: df38b0173cdd
Create Date: 2026-11-23 17:33:19.489210

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from portal.config import SETTINGS_EXTENSION
from portal.crypto.blind_index import BlindIndex, normalise_email
from portal.crypto.keys import KeyManager, KeyOwner
from portal.keystore import DatabaseKeyStore, write_entries


# revision identifiers, used by Alembic.
revision = '3f98d75c0d5b'
down_revision = 'df38b0173cdd'
branch_labels = None
depends_on = None

# (table, column, nullable, clear type): frozen here, as this migration saw them.
SEALED = (
    ("users", "email", False, sa.String(320)),
    ("users", "full_name", False, sa.String(200)),
    ("users", "totp_secret", True, sa.String(64)),
    ("invitations", "email", False, sa.String(320)),
    ("invitations", "full_name", False, sa.String(200)),
    ("outbox_messages", "recipient", False, sa.String(320)),
    ("outbox_messages", "body", True, sa.Text()),
)
EMAIL_INDEX = BlindIndex("user.email", ("email",), (normalise_email,), unique=True)


def _manager(connection):
    keyring = current_app.extensions[SETTINGS_EXTENSION].keyring
    return KeyManager(keyring, DatabaseKeyStore(lambda: connection, months=False))


def _tables():
    return sorted({table for table, *_ in SEALED})


def _columns(table):
    return [(column, nullable, clear) for t, column, nullable, clear in SEALED if t == table]


def _refuse_duplicate_emails(connection):
    """Addresses were unique as typed; the blind index makes them unique whatever the
    case. Stop before changing anything, naming the accounts (by id, never address)."""
    seen = {}
    clashes = []
    for user_id, email in connection.execute(sa.text("SELECT id, email FROM users")):
        key = normalise_email(email)
        if key in seen:
            clashes.append(f"{seen[key]} and {user_id}")
        seen.setdefault(key, user_id)
    if clashes:
        raise RuntimeError(
            "accounts share an e-mail address written in different cases (user ids "
            + "; ".join(clashes[:10])
            + "): change or remove one of each, then run the upgrade again"
        )


def upgrade():
    _refuse_duplicate_emails(op.get_bind())
    op.create_table('blind_indexes',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('index_key_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.LargeBinary(), nullable=False),
    sa.Column('is_unique', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'owner_id', 'index_key_id', name=op.f('pk_blind_indexes'))
    )
    with op.batch_alter_table('blind_indexes', schema=None) as batch_op:
        batch_op.create_index('ix_blind_indexes_lookup', ['kind', 'index_key_id', 'digest', 'owner_id'], unique=False)
        batch_op.create_index('uq_blind_indexes_unique', ['kind', 'index_key_id', 'digest'], unique=True, postgresql_where=sa.text('is_unique'), sqlite_where=sa.text('is_unique'))

    op.create_table('data_keys',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('owner_kind', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('owner_authority_id', sa.Uuid(), nullable=True),
    sa.Column('wrapped_by', sa.String(length=10), nullable=False),
    sa.Column('wrapper_id', sa.BigInteger(), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=True),
    sa.Column('sentinel', sa.LargeBinary(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('destroyed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_keys'))
    )
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.create_index('ix_data_keys_owner', ['owner_kind', 'owner_id'], unique=False)
        batch_op.create_index('uq_data_keys_primary', ['owner_kind', 'owner_id'], unique=True, postgresql_where=sa.text("state = 'primary'"), sqlite_where=sa.text("state = 'primary'"))

    # 1. A sealed twin of each clear column.
    for table in _tables():
        with op.batch_alter_table(table) as batch_op:
            for column, _nullable, _clear in _columns(table):
                batch_op.add_column(sa.Column(f"{column}_sealed", sa.LargeBinary(), nullable=True))

    # 2. Seal every value, bound to its table, column and row; index account e-mails.
    connection = op.get_bind()
    manager = _manager(connection)
    owner = KeyOwner.deployment()
    for table in _tables():
        columns = _columns(table)
        names = [column for column, *_ in columns]
        rows = connection.execute(sa.text(f"SELECT id, {', '.join(names)} FROM {table}")).all()
        for row in rows:
            values = {}
            for column in names:
                clear = getattr(row, column)
                values[f"{column}_sealed"] = None if clear is None else manager.seal(
                    owner, table, column, _row_id(row.id), clear.encode()
                )
            assignments = ", ".join(f"{name} = :{name}" for name in values)
            connection.execute(
                sa.text(f"UPDATE {table} SET {assignments} WHERE id = :row_id"),
                {**values, "row_id": row.id},
            )
            if table == "users":
                write_entries(connection, manager.keyring, EMAIL_INDEX, _uuid(row.id), [row.email])

    # 3. Drop the clear columns; the sealed ones take their names.
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_constraint('uq_users_email', type_='unique')
    with op.batch_alter_table('invitations') as batch_op:
        batch_op.drop_index('ix_invitations_email')
    for table in _tables():
        with op.batch_alter_table(table) as batch_op:
            for column, nullable, _clear in _columns(table):
                batch_op.drop_column(column)
                batch_op.alter_column(f"{column}_sealed", new_column_name=column,
                                      existing_type=sa.LargeBinary(), nullable=nullable)

    # 4. Sessions stored their data in clear: they end (everyone signs in again).
    op.execute("DELETE FROM web_sessions")


def downgrade():
    connection = op.get_bind()
    manager = _manager(connection)
    for table in _tables():
        with op.batch_alter_table(table) as batch_op:
            for column, _nullable, clear in _columns(table):
                batch_op.add_column(sa.Column(f"{column}_clear", clear, nullable=True))
    for table in _tables():
        names = [column for column, *_ in _columns(table)]
        rows = connection.execute(sa.text(f"SELECT id, {', '.join(names)} FROM {table}")).all()
        for row in rows:
            values = {
                f"{column}_clear": None if getattr(row, column) is None else manager.unseal(
                    table, column, _row_id(row.id), getattr(row, column)
                ).decode()
                for column in names
            }
            assignments = ", ".join(f"{name} = :{name}" for name in values)
            connection.execute(
                sa.text(f"UPDATE {table} SET {assignments} WHERE id = :row_id"),
                {**values, "row_id": row.id},
            )
    for table in _tables():
        with op.batch_alter_table(table) as batch_op:
            for column, nullable, clear in _columns(table):
                batch_op.drop_column(column)
                batch_op.alter_column(f"{column}_clear", new_column_name=column,
                                      existing_type=clear, nullable=nullable)
    with op.batch_alter_table('users') as batch_op:
        batch_op.create_unique_constraint('uq_users_email', ['email'])
    with op.batch_alter_table('invitations') as batch_op:
        batch_op.create_index('ix_invitations_email', ['email'], unique=False)
    op.execute("DELETE FROM web_sessions")

    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.drop_index('uq_data_keys_primary', postgresql_where=sa.text("state = 'primary'"), sqlite_where=sa.text("state = 'primary'"))
        batch_op.drop_index('ix_data_keys_owner')
    op.drop_table('data_keys')
    with op.batch_alter_table('blind_indexes', schema=None) as batch_op:
        batch_op.drop_index('uq_blind_indexes_unique', postgresql_where=sa.text('is_unique'), sqlite_where=sa.text('is_unique'))
        batch_op.drop_index('ix_blind_indexes_lookup')
    op.drop_table('blind_indexes')


def _uuid(value):
    import uuid

    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _row_id(value):
    """Ids are bound as the ORM writes them: the UUID in its canonical text form."""
    return str(_uuid(value))
