"""The WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

from portal import create_app
from portal.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # One line that says what to do, not a traceback.
    raise SystemExit(f"portal: cannot start: {error}") from None
