"""The entry point for gunicorn (``gunicorn wsgi:app``) and the flask command
(``flask --app wsgi ...``)."""

import gc
import sys

from portal import create_app
from portal.config import ConfigError

# gunicorn stops, instead of restarting workers for ever, when a worker exits with 3.
WORKER_BOOT_ERROR = 3

try:
    app = create_app()
except ConfigError as error:
    # One line that says what to do, not a traceback.
    print(f"portal: cannot start: {error}", file=sys.stderr)
    raise SystemExit(WORKER_BOOT_ERROR) from None

# What start-up made (about 200,000 objects: the app, its models, its modules) lives as
# long as the worker. Frozen, the garbage collector no longer walks it: a full collection
# took about 100 ms before, in the middle of someone's request.
gc.collect()
gc.freeze()
