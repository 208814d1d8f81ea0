"""Two gunicorn instances on different ports, one PostgreSQL database, as behind a load
balancer: nothing a user relies on lives in one process's memory. A whole referral is
written with its requests alternating between the instances; the session, the sign-in
throttle, the outbox and submitting once hold across both."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from portal.demo import DEMO_PASSWORD
from tests.deployment.conftest import (
    ATTEMPTS_PER_ACCOUNT,
    Alternating,
    Deployment,
    sign_in,
    written_referral,
)
from tests.referrals import journey


def test_a_session_begun_on_one_instance_carries_on_on_the_other(deployment: Deployment) -> None:
    client = Alternating(deployment.bases)
    signed_in = sign_in(client, "dsl@oakwood.example")
    assert signed_in.status_code == 302, signed_in.text
    for base in deployment.bases:
        page = client.get("/", base=base)
        assert page.status_code == 200
        assert "Sign out" in page.text
    # Signed out on one: signed out on both.
    client.get("/", base=deployment.bases[0])
    assert client.post_form("/sign-out", base=deployment.bases[0]).status_code == 302
    for base in deployment.bases:
        assert client.get("/", base=base).headers["Location"].startswith("/sign-in")


def test_the_sign_in_limit_counts_attempts_on_both_instances(deployment: Deployment) -> None:
    client = Alternating(deployment.bases)
    for _ in range(ATTEMPTS_PER_ACCOUNT):  # half on each instance
        wrong = client.submit(
            "/sign-in", {"email": "head@oakwood.example", "password": "not-the-password"}
        )
        assert wrong.status_code == 200
        assert "Enter a correct email address and password" in wrong.text
    for base in deployment.bases:
        client.get("/sign-in", base=base)
        refused = client.post_form(
            "/sign-in", {"email": "head@oakwood.example", "password": DEMO_PASSWORD}, base=base
        )
        assert "too many attempts to sign in" in refused.text


def test_a_referral_written_across_both_is_sent_once_and_told_once(
    deployment: Deployment,
) -> None:
    client = Alternating(deployment.bases)
    # Another account than the first test's: a code is good once.
    assert sign_in(client, "hr@riverside.example").status_code == 302
    case_url = written_referral(deployment, client, "Riverside")
    # "Send" pressed on both instances at the same moment (a double click through a
    # load balancer): one submission.
    client.get(f"{case_url}/check")
    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = list(
            pool.map(
                lambda base: client.post_form(f"{case_url}/check", {}, base=base),
                deployment.bases,
            )
        )
    assert all(response.status_code in (200, 302) for response in sent), [r.text for r in sent]
    case_id = journey.case_id_of(case_url)
    assert deployment.query(
        "SELECT status, reference IS NOT NULL FROM cases WHERE id = %s", case_id
    ) == [("submitted", True)]
    assert deployment.query(
        "SELECT count(*) FROM case_events WHERE case_id = %s AND transition = 'submit'", case_id
    ) == [(1,)]
    # Its e-mails wait in the outbox table (not in either instance's memory); two senders
    # at once send each exactly once.
    pending = deployment.query("SELECT count(*) FROM outbox_messages WHERE status = 'pending'")
    assert pending[0][0] > 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: deployment.flask("outbox", "send"), range(2)))
    assert deployment.query(
        "SELECT count(*) FROM outbox_messages WHERE status <> 'sent' OR attempts <> 1"
    ) == [(0,)]


def test_the_entry_point_freezes_what_start_up_made(deployment: Deployment) -> None:
    """So that Python's full garbage collection, in a worker, walks only what requests
    made (it took about 100 ms with the start-up objects in it)."""
    result = deployment.run(sys.executable, "-c", "import gc, wsgi; print(gc.get_freeze_count())")
    assert int(result.stdout.split()[-1]) > 50_000
