"""The database's disk fills up during an upload: the person is told, in words, that the
file was not saved, nothing of it is left behind, and the draft is as it was.

The disk "fills" part way through the file: a trigger on the file's chunks raises the
error each database gives when its disk is full (PostgreSQL's disk_full, 53100; SQLite's
"database or disk is full"). Lowering SQLite's max_page_count gives the real SQLITE_FULL
too, but leaves the shared test database unusable for the next test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import Flask
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import CaseAttachment, StoredFile, StoredFileChunk
from portal.referrals.uploads import NO_SPACE
from tests.client import PortalClient
from tests.conftest import Database
from tests.referrals import journey
from tests.referrals.conftest import Place

# A real PDF of about 1 MB: many chunks, so the disk fills part way through.
BIG_PDF = journey.PDF.replace(b"%%EOF", b"%" + b"x" * 1_000_000 + b"\n%%EOF")


@contextlib.contextmanager
def _full_disk(app: Flask, database: Database) -> Iterator[None]:
    """The disk fills after the file's first few chunks: a trigger refuses the next ones
    with the database's own out-of-space error."""
    if database.kind == "sqlite":
        create = [
            "CREATE TRIGGER disk_is_full BEFORE INSERT ON stored_file_chunks "
            "WHEN NEW.seq > 3 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        ]
        drop = ["DROP TRIGGER disk_is_full"]
    else:
        create = [
            "CREATE FUNCTION disk_is_full() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF NEW.seq > 3 THEN RAISE EXCEPTION 'could not extend file' "
            "USING ERRCODE = 'disk_full'; END IF; RETURN NEW; END; $$",
            "CREATE TRIGGER disk_is_full BEFORE INSERT ON stored_file_chunks "
            "FOR EACH ROW EXECUTE FUNCTION disk_is_full()",
        ]
        drop = ["DROP TRIGGER disk_is_full ON stored_file_chunks", "DROP FUNCTION disk_is_full()"]
    with app.app_context(), db.engine.begin() as connection:
        for statement in create:
            connection.execute(text(statement))
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as connection:
            for statement in drop:
                connection.execute(text(statement))


def _counts(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(StoredFile)) or 0,
            db.session.scalar(select(func.count()).select_from(StoredFileChunk)) or 0,
            db.session.scalar(select(func.count()).select_from(CaseAttachment)) or 0,
        )


def test_an_upload_onto_a_full_disk_says_so_and_leaves_nothing(
    app: Flask, database: Database, place: Place, dsl: PortalClient
) -> None:
    case_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    journey.save(dsl, f"{case_url}/person", journey.SUBJECT)
    before = _counts(app)
    with _full_disk(app, database):
        refused = journey.upload(dsl, case_url, BIG_PDF, "statement.pdf")
    assert refused.status_code == 200
    page = refused.get_data(as_text=True).replace("&#39;", "'")
    assert NO_SPACE in page
    assert "There is a problem" in page
    assert _counts(app) == before  # no half-stored file
    # The disk has room again: the same file goes in, and the draft kept its answers.
    assert journey.upload(dsl, case_url, BIG_PDF, "statement.pdf").status_code == 302
    assert _counts(app)[2] == before[2] + 1
    assert journey.SUBJECT["full_name"] in dsl.get(f"{case_url}/person").get_data(as_text=True)
