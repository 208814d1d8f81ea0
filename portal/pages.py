"""Drawing a page that records its own viewing (an audit event)."""

from __future__ import annotations

from typing import Any

from flask import render_template

from portal.extensions import db


def drawn_then_committed(template: str, **context: Any) -> str:
    """The page, then the commit of what viewing it recorded (its audit events): a
    commit first would expire every row the page shows, to be loaded again one by one.
    Should the commit fail, the page is not shown."""
    page = render_template(template, **context)
    db.session.commit()
    return page
