"""A gunicorn worker killed in the middle of sending a referral, or of publishing an
update: the change is kept whole or not at all, and the user can do it again, once.

To kill it at the worst moments, the test makes the request wait for an advisory lock
the test holds, through a trigger of its own on writing an audit event (removed
afterwards):
- while writing: the trigger fires as the first event is written, in the middle of the
  change. SIGKILL then leaves PostgreSQL an open transaction from a dead client, which
  it rolls back when the statement ends and it cannot answer: none of it is kept.
- at commit: the trigger is deferred to the COMMIT, so every statement has run. Once
  the lock is let go, PostgreSQL commits, though nobody is listening: all of it is kept,
  and sending again must not send it twice."""

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


WHILE_WRITING, AT_COMMIT = "while writing", "at commit"
WAIT_FOR_THE_TEST = (
    "CREATE FUNCTION test_wait() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "PERFORM pg_advisory_xact_lock({lock}); RETURN NULL; END $$"
)
TRIGGERS = {
    WHILE_WRITING: "CREATE TRIGGER test_wait AFTER INSERT ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION test_wait()",
    AT_COMMIT: "CREATE CONSTRAINT TRIGGER test_wait AFTER INSERT ON audit_events "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_wait()",
}
NO_WAIT = (
    "DROP TRIGGER IF EXISTS test_wait ON audit_events",
    "DROP FUNCTION IF EXISTS test_wait()",
)
LOCK = 4242
WAITING = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory'"


def _killed(deployment: Deployment, post: Callable[[], object], moment: str) -> set[str]:
    """Make the request wait at ``moment``, SIGKILL its worker, then let go; wait until
    PostgreSQL has finished with the dead worker's transaction. The tables the request
    had written to when it was killed."""
    with psycopg.connect(deployment.database_url, autocommit=True) as setup:
        setup.execute(WAIT_FOR_THE_TEST.format(lock=LOCK))  # type: ignore[arg-type]
        setup.execute(TRIGGERS[moment])  # type: ignore[arg-type]
        try:
            with psycopg.connect(deployment.database_url) as blocker:
                blocker.execute(f"SELECT pg_advisory_xact_lock({LOCK})")  # type: ignore[arg-type]
                with ThreadPoolExecutor(max_workers=1) as pool:
                    request = pool.submit(post)
                    _until(
                        lambda: deployment.query(WAITING)[0][0] == 1,
                        f"the request waits {moment}",
                    )
                    written = {
                        table
                        for (table,) in deployment.query(
                            "SELECT l.relation::regclass::text FROM pg_locks l "
                            "JOIN pg_stat_activity a ON a.pid = l.pid "
                            "WHERE a.wait_event = 'advisory' AND l.mode = 'RowExclusiveLock'"
                        )
                    }
                    os.kill(deployment.worker_of(0), signal.SIGKILL)
                    with pytest.raises(requests.ConnectionError):
                        request.result(timeout=60)
                blocker.rollback()
            _until(lambda: deployment.query(WAITING)[0][0] == 0, "the transaction is over")
        finally:
            for statement in NO_WAIT:
                setup.execute(statement)  # type: ignore[arg-type]
    return written


def _new_worker(base: str) -> None:
    """Gunicorn starts another worker in place of the killed one."""
    _until(
        lambda: requests.get(f"{base}/healthz", timeout=5).status_code == 200,
        "a new worker answers",
    )


# A partner each: the same one would sign in again within the same 30 seconds, and an
# authenticator code is accepted once.
@pytest.mark.parametrize(
    ("moment", "partner", "organisation"),
    [
        (WHILE_WRITING, "social-worker@csc.example", "Brookfield Children"),
        (AT_COMMIT, "officer@police.example", "Brookfield and Eastmere Police"),
    ],
)
def test_a_referral_whose_worker_dies_as_it_is_sent_is_kept_whole_or_not_and_sent_once(
    deployment: Deployment, moment: str, partner: str, organisation: str
) -> None:
    first = deployment.bases[0]
    client = Alternating((first, first))
    assert sign_in(client, partner).status_code == 302
    case_url = written_referral(deployment, client, organisation)
    case_id = journey.case_id_of(case_url)
    outbox_before = deployment.query("SELECT count(*) FROM outbox_messages")[0][0]
    client.get(f"{case_url}/check")

    written = _killed(deployment, lambda: client.post_form(f"{case_url}/check", {}), moment)

    status = deployment.query("SELECT status, reference FROM cases WHERE id = %s", case_id)
    submitted = deployment.query(
        "SELECT count(*) FROM case_events WHERE case_id = %s AND transition = 'submit'",
        case_id,
    )[0][0]
    outbox = deployment.query("SELECT count(*) FROM outbox_messages")[0][0]
    if moment == WHILE_WRITING:
        # Killed in the middle of the change: none of it was kept.
        assert {"cases", "audit_events"} <= written
        assert status == [("draft", None)]
        assert (submitted, outbox) == (0, outbox_before)
    else:
        # Killed once all of it was written and committing: all of it was kept.
        assert {"cases", "case_events", "deadlines", "outbox_messages"} <= written
        assert status[0][0] == "submitted"
        assert status[0][1] is not None
        assert (submitted, outbox) == (1, outbox_before + 1)

    # The user, who saw no answer, presses Send again on the new worker: sent once.
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

    written = _killed(
        deployment,
        lambda: lado.post_form(update_url, {**_form(review.raw), "publish": "Publish"}),
        WHILE_WRITING,
    )

    # Killed in the middle of the change: none of it was kept.
    assert "audit_events" in written
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
