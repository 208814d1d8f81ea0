"""Hypothesis writes the referral's pages at random: any text (control characters,
scripts, SQL-ish words, right-to-left marks), huge numbers, several values for one field,
fields left out. Every answer gets a page back (a validation message or the next page),
never a 500, and nothing posted comes back as markup."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.client import PortalClient
from tests.referrals import journey
from tests.referrals.conftest import Place

PAGES = {
    "person": journey.SUBJECT,
    "what-happened": journey.INCIDENT,
    "actions": journey.ACTIONS,
    "children/new": journey.CHILD,
}
SCRIPT = "<script>alert(1)</script>"
TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.sampled_from([SCRIPT, "'; DROP TABLE cases; --", "\u202e\u200b", "\x00", "x" * 30_000]),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
VALUE = st.one_of(TEXT, st.lists(TEXT, min_size=2, max_size=3))  # a list: a repeated field


@pytest.fixture
def draft(place: Place, dsl: PortalClient) -> str:
    """One draft for the whole test: Hypothesis's examples all write to it."""
    return journey.start_referral(dsl, place.school_id, place.authority_id)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_answers_get_a_page_never_a_500(
    draft: str, dsl: PortalClient, data: st.DataObject
) -> None:
    page = data.draw(st.sampled_from(sorted(PAGES)), label="page")
    fields = PAGES[page]
    # Some of the page's own answers, some changed at random, some left out.
    answers: dict[str, Any] = {}
    for name, good in fields.items():
        choice = data.draw(st.sampled_from(["keep", "random", "leave out"]), label=name)
        if choice == "keep":
            answers[name] = good
        elif choice == "random":
            answers[name] = data.draw(VALUE, label=f"{name} value")
    response = dsl.submit(f"{draft}/{page}", answers)
    assert response.status_code in (200, 302), (page, response.status_code)
    assert SCRIPT not in response.get_data(as_text=True)
