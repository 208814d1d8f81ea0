"""Settings: defaults, then the environment, then secrets from instance/.

The settings object is frozen and built once at start. Anything missing that the portal
cannot run safely without raises ConfigError with a one-line reason; nothing falls back to
an insecure default (no ``SECRET_KEY = "dev"``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from portal.crypto import keyring
from portal.crypto.keyring import Keyring

ENV_PREFIX = "PORTAL_"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)
ENVIRONMENTS = ("production", "development", "test")
MAIL_TRANSPORTS = ("log", "smtp", "notify", "memory")
NOTIFY_API = "https://api.notifications.service.gov.uk"
PASSWORD_HASH_PROFILES = ("RFC_9106_LOW_MEMORY", "RFC_9106_HIGH_MEMORY", "CHEAPEST")
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """The portal cannot start; the message is one line that says what to do."""


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{ENV_PREFIX}{name} must be true or false, not {value!r}")


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number, not {value!r}") from None


def _choice(value: str, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{ENV_PREFIX}{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator used."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def write_secret_key(instance_path: Path) -> bool:
    """Create instance/secret_key (mode 0600) if absent. Returns True when it made one."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / SECRET_KEY_FILE
    if path.exists():
        return False
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return True


@dataclass(frozen=True)
class Settings:
    secret_key: str = field(repr=False)
    database_url: str
    instance_path: Path
    # The encryption keyring (instance/keys.json or PORTAL_KEYS): never in the database.
    keyring: Keyring = field(repr=False)
    # The keyring's file, when it came from one (rotation writes it); None from PORTAL_KEYS.
    keyring_path: Path | None = None
    environment: str = "production"
    base_url: str = "http://127.0.0.1:8000"
    service_name: str = "LADO allegations portal"
    deployment_name: str = "LADO partner portal"
    session_cookie_secure: bool = True
    session_idle_timeout: timedelta = timedelta(minutes=15)
    session_absolute_timeout: timedelta = timedelta(hours=12)
    sign_in_window: timedelta = timedelta(minutes=5)
    sign_in_attempts_per_account: int = 10
    sign_in_attempts_per_address: int = 100
    invitation_lifetime: timedelta = timedelta(hours=72)
    password_reset_lifetime: timedelta = timedelta(hours=1)
    password_hash_profile: str = "RFC_9106_LOW_MEMORY"  # noqa: S105 (an argon2 profile name)
    mail_transport: str = "log"
    mail_sender: str = "LADO portal <no-reply@lado-portal.invalid>"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True
    # GOV.UK Notify: one email template whose subject is ((subject)) and body ((body)).
    notify_api_key: str = field(default="", repr=False)
    notify_template_id: str = ""
    notify_base_url: str = NOTIFY_API
    proxy_fix_hops: int = 0
    database_connect_timeout: int = 3
    # Seconds between a worker's chaining of the audit events waiting (portal.audit_chain).
    audit_chain_every: float = 2.0

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, instance_path: Path | None = None
    ) -> Settings:
        """Read ``PORTAL_*`` variables; secrets may instead come from instance/."""
        env = dict(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name)
            return value if value not in (None, "") else None

        instance = Path(get("INSTANCE_PATH") or instance_path or default_instance_path())
        environment = _choice(get("ENV") or "production", "ENV", ENVIRONMENTS)

        secret_key = get("SECRET_KEY")
        if secret_key is None:
            key_file = instance / SECRET_KEY_FILE
            if key_file.exists():
                secret_key = key_file.read_text().strip()
        if not secret_key:
            raise ConfigError(
                f"no secret key: set {ENV_PREFIX}SECRET_KEY or run `flask secrets init` "
                f"to create {instance / SECRET_KEY_FILE}"
            )
        if len(secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"the secret key is shorter than {MIN_SECRET_KEY_LENGTH} characters: "
                "make a new one with `flask secrets init` or a random 48-byte value"
            )

        try:
            ring = keyring.load(env, instance)
        except keyring.KeyringError as error:
            raise ConfigError(str(error)) from None

        database_url = normalise_database_url(
            get("DATABASE_URL") or f"sqlite:///{instance / 'portal.db'}"
        )
        base_url = get("BASE_URL")
        if base_url is None and environment == "production":
            raise ConfigError(
                f"{ENV_PREFIX}BASE_URL is not set: links in e-mails need the portal's public "
                "address, e.g. https://lado-portal.example.gov.uk"
            )

        values: dict[str, Any] = {
            "secret_key": secret_key,
            "database_url": database_url,
            "instance_path": instance,
            "keyring": ring,
            "keyring_path": None if env.get("PORTAL_KEYS") else instance / keyring.KEYRING_FILE,
            "environment": environment,
            # Local development serves plain http on 127.0.0.1; everything else is https.
            "session_cookie_secure": environment != "development",
        }
        if base_url is not None:
            values["base_url"] = base_url.rstrip("/")
        text_settings = {
            "SERVICE_NAME": "service_name",
            "DEPLOYMENT_NAME": "deployment_name",
            "MAIL_SENDER": "mail_sender",
            "SMTP_HOST": "smtp_host",
            "SMTP_USERNAME": "smtp_username",
            "SMTP_PASSWORD": "smtp_password",
            "NOTIFY_API_KEY": "notify_api_key",
            "NOTIFY_TEMPLATE_ID": "notify_template_id",
            "NOTIFY_BASE_URL": "notify_base_url",
        }
        for name, attribute in text_settings.items():
            if (value := get(name)) is not None:
                values[attribute] = value
        int_settings = {
            "SMTP_PORT": "smtp_port",
            "PROXY_FIX_HOPS": "proxy_fix_hops",
            "SIGN_IN_ATTEMPTS_PER_ACCOUNT": "sign_in_attempts_per_account",
            "SIGN_IN_ATTEMPTS_PER_ADDRESS": "sign_in_attempts_per_address",
            "DATABASE_CONNECT_TIMEOUT": "database_connect_timeout",
        }
        for name, attribute in int_settings.items():
            if (value := get(name)) is not None:
                values[attribute] = _int(value, name)
        if (value := get("SESSION_COOKIE_SECURE")) is not None:
            values["session_cookie_secure"] = _flag(value, "SESSION_COOKIE_SECURE")
        if (value := get("SMTP_STARTTLS")) is not None:
            values["smtp_starttls"] = _flag(value, "SMTP_STARTTLS")
        if (value := get("MAIL_TRANSPORT")) is not None:
            values["mail_transport"] = _choice(value, "MAIL_TRANSPORT", MAIL_TRANSPORTS)
        if (value := get("PASSWORD_HASH_PROFILE")) is not None:
            values["password_hash_profile"] = _choice(
                value, "PASSWORD_HASH_PROFILE", PASSWORD_HASH_PROFILES
            )
        transport = values.get("mail_transport", "log")
        if environment == "production" and transport not in ("smtp", "notify"):
            raise ConfigError(
                f"{ENV_PREFIX}MAIL_TRANSPORT must be notify or smtp in production: the "
                "development transport writes one-time links into the log"
            )
        if transport == "notify" and not (
            values.get("notify_api_key") and values.get("notify_template_id")
        ):
            raise ConfigError(
                f"{ENV_PREFIX}MAIL_TRANSPORT=notify needs {ENV_PREFIX}NOTIFY_API_KEY and "
                f"{ENV_PREFIX}NOTIFY_TEMPLATE_ID (a template whose subject is ((subject)) "
                "and body ((body)))"
            )
        if values.get("password_hash_profile") == "CHEAPEST" and environment != "test":
            raise ConfigError(
                f"{ENV_PREFIX}PASSWORD_HASH_PROFILE=CHEAPEST is only for the test suite"
            )
        return cls(**values)

    def flask_config(self) -> dict[str, Any]:
        """The subset Flask and its extensions read from ``app.config``."""
        engine_options: dict[str, Any] = {"pool_pre_ping": True}
        if self.database_url.startswith("postgresql"):
            engine_options["connect_args"] = {"connect_timeout": self.database_connect_timeout}
        else:
            engine_options["connect_args"] = {"timeout": self.database_connect_timeout}
        secure = self.session_cookie_secure
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            # The __Host- prefix pins the cookie to this host, path / and https.
            "SESSION_COOKIE_NAME": "__Host-portal-session" if secure else "portal-session",
            "SESSION_COOKIE_SECURE": secure,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the server-side session
            # Flask-WTF's HTTPS check wants a Referer header, which Referrer-Policy:
            # no-referrer stops browsers sending; the __Host- cookie, SameSite=Lax and
            # the token itself are the protection.
            "WTF_CSRF_SSL_STRICT": False,
            "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
            "TESTING": self.environment == "test",
        }


def default_instance_path() -> Path:
    """The repository's top-level instance/ folder, beside the portal package."""
    return Path(__file__).resolve().parent.parent / "instance"


SETTINGS_EXTENSION = "portal.settings"


def current_settings() -> Settings:
    """The running app's settings (inside an app context)."""
    from flask import current_app

    settings = current_app.extensions[SETTINGS_EXTENSION]
    if not isinstance(settings, Settings):
        raise RuntimeError("the app was not made by portal.create_app")
    return settings
