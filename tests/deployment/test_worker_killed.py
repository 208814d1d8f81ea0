"""A gunicorn worker killed in the middle of sending a referral, or of publishing an
update: none of the change is kept, and the user does it again, once.

To kill it at the worst moment, the test holds the audit chain's head row: the request
then does all of its writing (the case, its history, its clocks, the acknowledgement
e-mail) and waits there, as its transaction commits. SIGKILL then leaves PostgreSQL an
open transaction from a dead client, which it rolls back."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from tests.deployment.conftest import Alternating, Deployment, sign_in, written_referral
from tests.referrals import journey
from tests.updates.test_updates import _form, _write


def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting until {what}")


def _killed_at_commit(deployment: Deployment, post: Callable[[], object], doing: str) -> None:
    """Hold the audit chain's head, make the request, wait until it is waiting there (all
    its writing done, committing), SIGKILL its worker, then let go of the head."""
    with psycopg.connect(deployment.database_url) as blocker:
        blocker.execute("SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE")
        with ThreadPoolExecutor(max_workers=1) as pool:
            request = pool.submit(post)
            _until(
                lambda: (
                    deployment.query(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE '%%audit_chain_head%%'"
                    )[0][0]
                    == 1
                ),
                f"{doing} waits at its commit",
            )
            os.kill(deployment.worker_of(0), signal.SIGKILL)
            with pytest.raises(requests.ConnectionError):
                request.result(timeout=60)
        blocker.rollback()


def _new_worker(base: str) -> None:
    """Gunicorn starts another worker in place of the killed one."""
    _until(
        lambda: requests.get(f"{base}/healthz", timeout=5).status_code == 200,
        "a new worker answers",
    )


def test_a_referral_whose_worker_dies_as_it_is_sent_is_left_unsent_and_sent_again_once(
    deployment: Deployment,
) -> None:
    first = deployment.bases[0]
    client = Alternating((first, first))
    assert sign_in(client, "social-worker@csc.example").status_code == 302
    case_url = written_referral(deployment, client, "Brookfield Children")
    case_id = journey.case_id_of(case_url)
    outbox_before = deployment.query("SELECT count(*) FROM outbox_messages")[0][0]
    client.get(f"{case_url}/check")

    _killed_at_commit(
        deployment, lambda: client.post_form(f"{case_url}/check", {}), "the submission"
    )

    # None of it was kept.
    _until(
        lambda: deployment.query("SELECT status FROM cases WHERE id = %s", case_id) == [("draft",)],
        "the dead worker's transaction is rolled back",
    )
    assert deployment.query("SELECT reference FROM cases WHERE id = %s", case_id) == [(None,)]
    assert deployment.query("SELECT count(*) FROM case_events WHERE case_id = %s", case_id) == [
        (0,)
    ]
    assert deployment.query("SELECT count(*) FROM outbox_messages")[0][0] == outbox_before

    # The user presses Send again, on the new worker: sent once.
    _new_worker(first)
    client.get(f"{case_url}/check")
    again = client.post_form(f"{case_url}/check", {})
    assert again.status_code == 302, again.text[:2000]
    assert deployment.query("SELECT status FROM cases WHERE id = %s", case_id) == [("submitted",)]
    assert deployment.query(
        "SELECT count(*) FROM case_events WHERE case_id = %s AND transition = 'submit'",
        case_id,
    ) == [(1,)]
    assert deployment.query("SELECT count(*) FROM outbox_messages")[0][0] == outbox_before + 1
    assert deployment.flask("audit", "verify").returncode == 0


def test_an_update_whose_worker_dies_as_it_is_published_is_left_unpublished_and_published_once(
    deployment: Deployment,
) -> None:
    first = deployment.bases[0]
    lado = Alternating((first, first))
    assert sign_in(lado, "lado@brookfield.example").status_code == 302
    [(case_id, authority_id)] = deployment.query(
        "SELECT id, authority_id FROM cases WHERE status = 'referral'"
    )
    case_url = f"/authorities/{authority_id}/cases/{case_id}"
    written = _write(lado, case_url, ["referrer"], text="The meeting was held on Monday.")
    assert written.status_code == 302, written.text[:2000]
    update_url = written.headers["Location"]
    update_id = update_url.rstrip("/").rsplit("/", 1)[-1]
    published_before = deployment.query("SELECT count(*) FROM published_updates")[0][0]
    review = lado.get(update_url)

    _killed_at_commit(
        deployment,
        lambda: lado.post_form(update_url, {**_form(review.raw), "publish": "Publish"}),
        "the publication",
    )

    _until(
        lambda: (
            deployment.query(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            )[0][0]
            == 0
        ),
        "the dead worker's transaction is rolled back",
    )
    assert deployment.query("SELECT count(*) FROM published_updates")[0][0] == published_before
    assert deployment.query("SELECT published_at FROM case_updates WHERE id = %s", update_id) == [
        (None,)
    ]

    _new_worker(first)
    review = lado.get(update_url)
    again = lado.post_form(update_url, {**_form(review.raw), "publish": "Publish"})
    assert again.status_code == 302, again.text[:2000]
    assert deployment.query("SELECT count(*) FROM published_updates")[0][0] == published_before + 1
    assert deployment.flask("audit", "verify").returncode == 0
