"""Settings fail fast with a one-line reason; nothing falls back to an insecure default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.config import ConfigError, Settings, write_secret_key
from portal.crypto.keyring import new_keyring

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 48


def from_env(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_environment(environ=env, instance_path=tmp_path)


KEYS = new_keyring().to_json()
PRODUCTION = {
    "PORTAL_BASE_URL": "https://x.example",
    "PORTAL_MAIL_TRANSPORT": "smtp",
    "PORTAL_KEYS": KEYS,
}


def test_no_secret_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        from_env(tmp_path, **PRODUCTION)
    message = str(error.value)
    assert "\n" not in message
    assert "PORTAL_SECRET_KEY" in message
    assert "flask secrets init" in message


def test_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="shorter than 32"):
        from_env(tmp_path, PORTAL_SECRET_KEY="dev", **PRODUCTION)


def test_production_needs_its_public_address(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PORTAL_BASE_URL"):
        from_env(
            tmp_path, PORTAL_SECRET_KEY=GOOD_KEY, PORTAL_MAIL_TRANSPORT="smtp", PORTAL_KEYS=KEYS
        )


def test_production_will_not_write_emails_to_the_log(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MAIL_TRANSPORT must be notify or smtp in production"):
        from_env(
            tmp_path,
            PORTAL_SECRET_KEY=GOOD_KEY,
            PORTAL_BASE_URL="https://x.example",
            PORTAL_KEYS=KEYS,
        )


def test_the_secret_key_file_is_read_and_made_private(tmp_path: Path) -> None:
    assert write_secret_key(tmp_path)
    assert not write_secret_key(tmp_path)  # never overwritten
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    settings = from_env(tmp_path, **PRODUCTION)
    assert settings.secret_key == (tmp_path / "secret_key").read_text().strip()
    assert settings.session_cookie_secure
    assert settings.database_url == f"sqlite:///{tmp_path / 'portal.db'}"


def test_development_serves_plain_http_cookies(tmp_path: Path) -> None:
    settings = from_env(
        tmp_path, PORTAL_SECRET_KEY=GOOD_KEY, PORTAL_ENV="development", PORTAL_KEYS=KEYS
    )
    assert not settings.session_cookie_secure
    assert settings.flask_config()["SESSION_COOKIE_NAME"] == "portal-session"


def test_postgres_urls_use_psycopg_3(tmp_path: Path) -> None:
    settings = from_env(
        tmp_path,
        PORTAL_SECRET_KEY=GOOD_KEY,
        PORTAL_ENV="development",
        PORTAL_DATABASE_URL="postgres://portal:pw@db.internal:5432/portal",
        PORTAL_KEYS=KEYS,
    )
    assert settings.database_url == "postgresql+psycopg://portal:pw@db.internal:5432/portal"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORTAL_ENV", "staging", "PORTAL_ENV must be one of"),
        ("PORTAL_SESSION_COOKIE_SECURE", "maybe", "must be true or false"),
        ("PORTAL_SMTP_PORT", "twenty-five", "must be a whole number"),
        ("PORTAL_MAIL_TRANSPORT", "pigeon", "must be one of"),
        ("PORTAL_PASSWORD_HASH_PROFILE", "CHEAPEST", "only for the test suite"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, name: str, value: str, message: str) -> None:
    env = {"PORTAL_SECRET_KEY": GOOD_KEY, **PRODUCTION, name: value}
    with pytest.raises(ConfigError, match=message):
        from_env(tmp_path, **env)


def test_the_secret_is_not_in_the_settings_repr(tmp_path: Path) -> None:
    settings = from_env(tmp_path, PORTAL_SECRET_KEY=GOOD_KEY, **PRODUCTION)
    assert GOOD_KEY not in repr(settings)


def test_gunicorn_entry_point_exits_with_one_line(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env["PORTAL_INSTANCE_PATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3  # gunicorn halts instead of restarting workers
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("portal: cannot start: no secret key")


def test_notify_needs_its_key_and_template(tmp_path: Path) -> None:
    production = {
        "PORTAL_SECRET_KEY": GOOD_KEY,
        "PORTAL_BASE_URL": "https://x.example",
        "PORTAL_KEYS": KEYS,
        "PORTAL_MAIL_TRANSPORT": "notify",
    }
    with pytest.raises(ConfigError, match="NOTIFY_API_KEY and PORTAL_NOTIFY_TEMPLATE_ID"):
        from_env(tmp_path, **production, PORTAL_NOTIFY_API_KEY="key")
    secret = "live-0123-notify-api-key-canary"
    settings = from_env(
        tmp_path, **production, PORTAL_NOTIFY_API_KEY=secret, PORTAL_NOTIFY_TEMPLATE_ID="t"
    )
    assert settings.mail_transport == "notify"
    assert secret not in repr(settings)  # the API key is a secret
