"""Checks every HTML page the test client receives (Notify's and STYLE.md's habit):

- it parses, has one non-empty <title> and one <h1>;
- ids are unique, and every label ``for`` and ``aria-describedby`` / ``aria-labelledby`` /
  ``aria-controls`` points at an element that exists (catches empty GOV.UK hints);
- no inline script without this response's CSP nonce, no inline event handlers and no
  ``style`` attributes (the CSP would block them silently);
- no GOV.UK crown or GDS Transport, and every form that posts carries a CSRF token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

CROWN_MARKERS = (
    "govuk-header__logotype",
    "govuk-logo",
    "govuk-footer__copyright-logo",
    "GDS Transport",
    "govuk-crest",
)
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


@dataclass
class _Form:
    method: str
    has_token: bool = False


@dataclass
class Page(HTMLParser):
    ids: list[str] = field(default_factory=list)
    references: list[tuple[str, str]] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    h1_count: int = 0
    scripts: list[dict[str, str | None]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    forms: list[_Form] = field(default_factory=list)
    _in_title: bool = False
    _svg_depth: int = 0
    _title_text: str = ""

    def __post_init__(self) -> None:
        HTMLParser.__init__(self, convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(attributes["id"])
        if tag == "label" and attributes.get("for"):
            self.references.append(("label for", attributes["for"] or ""))
        for name in ("aria-describedby", "aria-labelledby", "aria-controls"):
            for target in (attributes.get(name) or "").split():
                self.references.append((name, target))
        if "style" in attributes:
            self.problems.append(f"<{tag}> has a style attribute (blocked by the CSP)")
        for name in attributes:
            if name.startswith("on"):
                self.problems.append(f"<{tag}> has an inline event handler {name}")
        if tag == "svg":
            self._svg_depth += 1
        if tag == "title" and not self._svg_depth:
            self._in_title = True
            self._title_text = ""
        if tag == "h1":
            self.h1_count += 1
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "form":
            self.forms.append(_Form(method=(attributes.get("method") or "get").lower()))
        if (
            tag == "input"
            and attributes.get("name") == "csrf_token"
            and self.forms
            and attributes.get("value")
        ):
            self.forms[-1].has_token = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._svg_depth -= 1
        if tag == "title" and self._in_title:
            self._in_title = False
            self.titles.append(self._title_text.strip())

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title_text += data


def check_page(html: str, csp_header: str | None) -> list[str]:
    page = Page()
    page.feed(html)
    page.close()
    problems = list(page.problems)
    if len(page.titles) != 1 or not page.titles[0]:
        problems.append(f"expected one non-empty <title>, found {page.titles!r}")
    if page.h1_count != 1:
        problems.append(f"expected one <h1>, found {page.h1_count}")
    seen: set[str] = set()
    for identifier in page.ids:
        if identifier in seen:
            problems.append(f"duplicate id {identifier!r}")
        seen.add(identifier)
    for kind, target in page.references:
        if target not in seen:
            problems.append(f"{kind} points at missing id {target!r}")
    nonce_match = re.search(r"'nonce-([^']+)'", csp_header or "")
    nonce = nonce_match.group(1) if nonce_match else None
    for script in page.scripts:
        if not script.get("src") and script.get("nonce") != nonce:
            problems.append("inline <script> without this response's CSP nonce")
    for marker in CROWN_MARKERS:
        if marker in html:
            problems.append(f"GOV.UK brand marker {marker!r} on a council's page")
    for form in page.forms:
        if form.method == "post" and not form.has_token:
            problems.append("a POST form without a CSRF token")
    return problems
