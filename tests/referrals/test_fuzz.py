"""Random answers to every page of the referral form, drawn by hypothesis: whatever is
sent, the page answers without a 500, and nothing sent comes back as markup."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.referrals import forms
from tests.client import PortalClient
from tests.referrals import journey
from tests.referrals.conftest import Place

PAGES = {
    "about-you": forms.AboutYouForm,
    "person": forms.SubjectForm,
    "what-happened": forms.IncidentForm,
    "actions": forms.ActionsForm,
    "children/new": forms.ChildForm,
}
MARKUP = "<b id=fuzz>"
# Text a person could type, or paste, or a tool could send.
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.sampled_from(["", " ", MARKUP, "0", "-1", "99999999999999999999", "31", "1899", "yes"]),
    st.text(alphabet="0123456789 /-", max_size=12),
)
ANSWER = st.one_of(TEXT, st.lists(TEXT, max_size=4))


def _field_names(form_class: type[forms.SectionForm]) -> list[str]:
    return [
        name
        for name, value in vars(form_class).items()
        if hasattr(value, "field_class") and name != "submit"
    ]


@pytest.fixture
def draft(place: Place, dsl: PortalClient) -> str:
    return journey.start_referral(dsl, place.school_id, place.authority_id)


@pytest.mark.parametrize("page", list(PAGES))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_answers_never_break_a_page(
    app: Flask, dsl: PortalClient, draft: str, page: str, data: st.DataObject
) -> None:
    names = _field_names(PAGES[page])
    answers: dict[str, Any] = {
        name: data.draw(ANSWER, label=name)
        for name in data.draw(st.lists(st.sampled_from(names), unique=True), label="fields")
    }
    answers["action"] = data.draw(st.sampled_from(["", "later"]), label="action")
    dsl.get(f"{draft}/{page}")
    response = dsl.post_form(f"{draft}/{page}", answers)
    assert response.status_code in (200, 302), response.status_code
    shown = dsl.get(f"{draft}/{page}" if response.status_code == 302 else draft)
    for reply in (response, shown):
        body = reply.get_data(as_text=True)
        assert MARKUP not in body
        assert not re.search(r"<b id=fuzz", body)
