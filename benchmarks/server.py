"""The portal as the load benchmarks see it: an instance folder made as `make run` makes
one, gunicorn on a free port of 127.0.0.1, and a person at a browser (an HTTP session
that keeps the last page's CSRF token and times each request)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyotp
import requests
from sqlalchemy import create_engine, func, select, text

from portal.models import OPEN_STATUSES, Authority, Case

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
PASSWORD = "benchmark-lantern-harbour-42"  # noqa: S105 (the benchmarks' throwaway accounts)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(folder: str, database_url: str) -> dict[str, str]:
    """The environment to run the portal's commands and gunicorn with, over the
    instance ``folder`` and the database."""
    return {
        **os.environ,
        "PORTAL_ENV": "development",  # plain http on 127.0.0.1, e-mails into the log
        "PORTAL_INSTANCE_PATH": folder,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SIGN_IN_ATTEMPTS_PER_ADDRESS": "10000",  # everyone is on 127.0.0.1
    }


def instance(database_url: str) -> dict[str, str]:
    """A fresh instance folder (secrets, keys) over a migrated database: its
    environment."""
    env = environment(tempfile.mkdtemp(prefix="portal-bench-instance-"), database_url)
    flask(env, "secrets", "init")
    flask(env, "keys", "init")
    flask(env, "db", "upgrade")
    return env


def flask(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


# gunicorn's access log, when asked for: each request's label (sent by Browser) and its
# time in the server, in microseconds.
SERVER_TIMES_FORMAT = "%({x-bench-label}i)s\t%(D)s"


@contextmanager
def gunicorn(
    env: dict[str, str],
    app: str = "wsgi:app",
    ready_path: str = "/healthz",
    server_times: Path | None = None,
) -> Iterator[str]:
    """``app`` served by gunicorn with WORKERS sync workers; its base URL. With
    ``server_times``, each request's label and time in the server are written there."""
    port = free_port()
    logging = (
        ["--access-logfile", str(server_times), "--access-logformat", SERVER_TIMES_FORMAT]
        if server_times
        else []
    )
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--timeout",
            "120",
            *logging,
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}{ready_path}", timeout=10).status_code == 200:
                    break
            except requests.RequestException:  # not listening, or still starting
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def seed(env: dict[str, str], script: str, count: int, *args: str) -> list[tuple[list[str], str]]:
    """Run a benchmark's seeding ``script`` in its own process with the server's
    environment (so accounts are hashed as the server hashes them), giving it ``count``
    fresh TOTP secrets on stdin, one a line. The words of each line it prints, with the
    secret it was given."""
    secrets = [pyotp.random_base32(length=32) for _ in range(count)]
    result = subprocess.run(
        [sys.executable, "-c", script, str(count), *args],
        cwd=ROOT,
        env=env,
        input="\n".join(secrets) + "\n",
        check=True,
        capture_output=True,
        text=True,
    )
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    return list(zip(rows, secrets, strict=True))


class Browser:
    """One person at a browser: keeps the CSRF token of the last page, times each request."""

    def __init__(self, base: str, timings: dict[str, list[float]], failures: list[str]) -> None:
        self.base = base
        self.http = requests.Session()
        self.token = ""
        self.timings = timings
        self.failures = failures

    def _timed(self, label: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        began, start = time.monotonic(), time.perf_counter()
        response = self.http.request(
            method,
            self.base + path,
            allow_redirects=False,
            timeout=120,
            headers={"X-Bench-Label": label},  # for the server's own timing of it
            **kwargs,
        )
        self.record(label, began, time.perf_counter() - start)
        found = (
            CSRF.search(response.text)
            if "text/html" in response.headers.get("Content-Type", "")
            else None
        )
        if found:
            self.token = found.group(1)
        return response

    def record(self, label: str, began: float, took: float) -> None:
        """Keep a request's time (``began`` is when, on the monotonic clock)."""
        self.timings[label].append(took)

    def page(self, label: str, path: str) -> requests.Response:
        response = self._timed(f"GET  {label}", "GET", path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {label}: {response.status_code}")
        return response

    def send(self, label: str, path: str, data: dict[str, Any], **kwargs: Any) -> str:
        """POST the page's form; the redirect it answers with."""
        response = self._timed(
            f"POST {label}", "POST", path, data={"csrf_token": self.token, **data}, **kwargs
        )
        if response.status_code != 302:
            raise RuntimeError(f"POST {label}: {response.status_code}")
        return str(response.headers["Location"])

    def fill(self, label: str, path: str, data: dict[str, Any], **kwargs: Any) -> str:
        self.page(label, path)
        return self.send(label, path, data, **kwargs)

    def sign_in(self, email: str, password: str, totp_secret: str) -> None:
        self.fill("sign in", "/sign-in", {"email": email, "password": password})
        self.fill(
            "security code", "/sign-in/security-code", {"code": pyotp.TOTP(totp_secret).now()}
        )


def reused_instance() -> dict[str, str] | None:
    """BENCH_INSTANCE: an instance folder from an earlier run (its keys), over
    BENCH_DATABASE_URL's database, to measure again without loading 100,000 cases again."""
    folder = os.environ.get("BENCH_INSTANCE")
    if not folder:
        return None
    return environment(folder, os.environ["BENCH_DATABASE_URL"])


def vacuum(database_url: str) -> None:
    """What autovacuum does within minutes of a bulk load (statistics, the visibility
    map that index-only scans need), done now rather than measured half-way."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def count_cases(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(Case)) or 0
    engine.dispose()
    return count


def open_cases(database_url: str) -> dict[str, list[str]]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Case.authority_id, Case.id).where(Case.status.in_(OPEN_STATUSES))
        ).all()
        names = connection.execute(select(Authority.id, Authority.code)).all()
    engine.dispose()
    found: dict[str, list[str]] = defaultdict(list)
    for authority_id, case_id in rows:
        found[str(authority_id)].append(str(case_id))
    print("open cases: " + ", ".join(f"{code} {len(found[str(i)])}" for i, code in names))
    return found
