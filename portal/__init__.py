"""The LADO partner portal: ``create_app()`` wires settings, extensions, blueprints,
access control, security headers, error pages and commands together."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from flask import Flask
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from sqlalchemy.orm import joinedload
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import access, audit_chain, errors, formatting, headers, keystore, navigation
from portal import retention_keys as retention_keys  # case keys follow retention (listener)
from portal.config import SETTINGS_EXTENSION, ConfigError, Settings
from portal.crypto.keyring import KeyringError
from portal.extensions import csrf, db, login_manager, migrate
from portal.models import User
from portal.requests import PortalRequest
from portal.sessions import DatabaseSessionInterface, refuse_if_unavailable

ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app. Raises ConfigError (one line: what to do) if it cannot run safely."""
    settings = settings or Settings.from_environment()
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        # govuk-frontend's CSS and template.html expect their assets under /assets.
        static_url_path="/assets",
    )
    app.config.from_mapping(settings.flask_config())
    app.extensions[SETTINGS_EXTENSION] = settings
    if settings.proxy_fix_hops:
        # Behind a load balancer: trust exactly this many hops of X-Forwarded-* headers.
        hops = settings.proxy_fix_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    _configure_logging(app)
    _configure_templates(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    keystore.init_app(app, settings.keyring)
    csrf.init_app(app)
    _configure_login(app)
    app.session_interface = DatabaseSessionInterface(
        idle_timeout=settings.session_idle_timeout,
        absolute_timeout=settings.session_absolute_timeout,
    )

    from portal.admin import bp as admin_bp
    from portal.auth import bp as auth_bp
    from portal.auth.views import note_timed_out_session
    from portal.casework import bp as casework_bp
    from portal.main import bp as main_bp
    from portal.meetings import bp as meetings_bp
    from portal.referrals import bp as referrals_bp
    from portal.reports import bp as reports_bp
    from portal.subjects import bp as subjects_bp
    from portal.updates import bp as updates_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(referrals_bp)
    app.register_blueprint(casework_bp)
    app.register_blueprint(meetings_bp)
    app.register_blueprint(updates_bp)
    app.register_blueprint(subjects_bp)
    app.register_blueprint(reports_bp)

    # Order matters: a database that is down answers 503 before anything else runs, and
    # a timed-out session is noted before access control sends the user to sign in.
    app.before_request(refuse_if_unavailable)
    app.before_request(keystore.refuse_until_keys_verified)
    app.before_request(note_timed_out_session)
    access.install(app)
    audit_chain.install(app, settings.audit_chain_every)
    headers.init_app(app)
    errors.init_app(app)

    from portal import cli

    cli.init_app(app)
    try:
        keystore.verify_keys(app)  # a wrong keyring stops the app here, not at first use
    except KeyringError as error:
        with app.app_context():
            db.engine.dispose()  # leave no connection behind
        raise ConfigError(str(error)) from None
    return app


def _configure_templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.request_class = PortalRequest
    # {% do list.append(...) %} builds component parameters in templates.
    app.jinja_env.add_extension("jinja2.ext.do")
    WTFormsHelpers(app)
    formatting.init_app(app)

    @app.context_processor
    def branding() -> dict[str, object]:
        settings = app.extensions[SETTINGS_EXTENSION]
        # Functions, not values: a page shown while the database is down (503) must be
        # able to render without them.
        return {
            "service_name": settings.service_name,
            "deployment_name": settings.deployment_name,
            "council_name": navigation.council_name,
            "council_names": navigation.council_names,
            "service_navigation": navigation.service_navigation,
        }


def _configure_login(app: Flask) -> None:
    login_manager.init_app(app)
    # "strong": a session used from another address or browser is dropped.
    login_manager.session_protection = "strong"

    def load_user(user_id: str) -> User | None:
        try:
            # With their roles, in the same query: every page asks for them.
            user = db.session.get(User, uuid.UUID(user_id), options=[joinedload(User.memberships)])
        except ValueError:
            return None
        return user if user is not None and user.is_active else None

    login_manager.user_loader(load_user)


def _configure_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
