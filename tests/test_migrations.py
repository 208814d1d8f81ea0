"""The migrations build exactly the schema the models describe, and come down again."""

from __future__ import annotations

import flask_migrate
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
