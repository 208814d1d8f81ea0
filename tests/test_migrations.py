"""The migrations build exactly the schema the models describe, and come down again."""

from __future__ import annotations

import uuid

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect

from portal.extensions import db
from portal.models import Base


def test_models_and_migrations_agree(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_nothing_and_back(make_app: object) -> None:
    scratch = make_app()  # type: ignore[operator]
    with scratch.app_context():
        flask_migrate.downgrade(revision="base")
        assert inspect(db.engine).get_table_names() in ([], ["alembic_version"])
        flask_migrate.upgrade()
        assert "audit_events" in inspect(db.engine).get_table_names()


def test_an_organisation_has_at_most_one_account_manager(app: Flask) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    from portal.models import OrganisationAuthority
    from tests.factories import make_authority, make_organisation

    first, second = make_authority(app), make_authority(app)
    organisation = make_organisation(app, [first])
    with app.app_context():
        db.session.add(
            OrganisationAuthority(
                organisation_id=organisation, authority_id=second, manages_accounts=True
            )
        )
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_personal_fields_are_sealed_when_upgrading_from_clear_text(make_app: object) -> None:
    """A database from before encryption: its names and addresses are in clear. The
    upgrade seals them (and indexes the e-mail addresses); a downgrade opens them again."""
    from sqlalchemy import text

    from portal.auth.service import user_by_email
    from portal.models import Role, User
    from tests.factories import make_account, make_authority

    scratch = make_app()  # type: ignore[operator]
    account = make_account(
        scratch, Role.LADO, authority_id=make_authority(scratch), full_name="Clear Person"
    )
    with scratch.app_context():
        flask_migrate.downgrade(revision="df38b0173cdd")  # the last clear-text schema
        names = db.session.execute(text("SELECT full_name FROM users")).scalars().all()
        assert "Clear Person" in names
        db.session.commit()
        flask_migrate.upgrade()
        raw = db.session.execute(text("SELECT full_name FROM users")).scalars().all()
        assert all(isinstance(value, bytes | memoryview) for value in raw)
        assert b"Clear Person" not in b"".join(bytes(value) for value in raw)
        db.session.commit()
        user = db.session.get(User, account.id)
        assert user
        assert user.full_name == "Clear Person"
        assert user_by_email(account.email) is not None


def test_an_upgrade_that_cannot_go_ahead_changes_nothing(
    make_app: object, capfd: pytest.CaptureFixture[str]
) -> None:
    """Two addresses that differ only in case cannot both have the unique e-mail index:
    the upgrade stops, says why, and leaves the database as it was."""
    from sqlalchemy import text

    from portal.models import Role
    from tests.factories import make_account, make_authority

    scratch = make_app()  # type: ignore[operator]
    authority_id = make_authority(scratch)
    first = make_account(scratch, Role.LADO, authority_id=authority_id)
    second = make_account(scratch, Role.LADO, authority_id=authority_id)
    with scratch.app_context():
        flask_migrate.downgrade(revision="df38b0173cdd")
        db.session.execute(
            text("UPDATE users SET email = :email WHERE id = :id"),
            {"email": first.email.upper(), "id": _id(second.id)},
        )
        db.session.commit()
        with pytest.raises(SystemExit):  # flask-migrate logs the error, then exits
            flask_migrate.upgrade()
        printed = capfd.readouterr().err
        assert "written in different cases" in printed
        assert first.email.upper() not in printed  # ids, never addresses
        db.session.rollback()
        tables = inspect(db.engine).get_table_names()
        assert "blind_indexes" not in tables
        assert "data_keys" not in tables
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == "df38b0173cdd"
        db.session.execute(
            text("DELETE FROM memberships WHERE user_id = :id"), {"id": _id(second.id)}
        )
        db.session.execute(text("DELETE FROM users WHERE id = :id"), {"id": _id(second.id)})
        db.session.commit()
        flask_migrate.upgrade()
        assert "blind_indexes" in inspect(db.engine).get_table_names()


def _id(value: object) -> object:
    """A UUID as the raw column holds it (SQLite: 32 hex digits)."""
    import uuid

    assert isinstance(value, uuid.UUID)
    return value.hex if db.engine.dialect.name == "sqlite" else value


def test_the_events_already_recorded_are_chained_by_the_upgrade(make_app: object) -> None:
    from sqlalchemy import text

    from portal import audit_chain

    scratch = make_app()  # type: ignore[operator]
    with scratch.app_context():
        flask_migrate.downgrade(revision="c25e0d9d7e72")  # before the chain
        for minute in (3, 1, 2):
            db.session.execute(
                text(
                    "INSERT INTO audit_events (id, occurred_at, kind, detail) "
                    "VALUES (:id, :at, 'sign_out', '{}')"
                ),
                {"id": _id(uuid.uuid4()), "at": f"2026-01-01 09:0{minute}:00"},
            )
        db.session.commit()
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            verdict = audit_chain.verify(connection)
        assert (verdict.checked, verdict.problems) == (3, [])
        minutes = db.session.execute(
            text("SELECT occurred_at FROM audit_events ORDER BY seq")
        ).scalars()
        assert [str(value)[14:16] for value in minutes] == ["01", "02", "03"]
