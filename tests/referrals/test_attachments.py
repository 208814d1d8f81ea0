"""Files sent with a referral: only PDF, Word, Excel, JPEG and PNG, known by their
content; 20 MB each; sealed at rest; downloaded only as attachments, only by those
allowed."""

from __future__ import annotations

import html
import io
import zipfile

import pytest
from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.files import MAX_FILE_BYTES
from portal.models import AuditEvent, AuditKind, CaseAttachment
from portal.referrals import uploads
from tests.client import PortalClient
from tests.referrals import journey
from tests.referrals.conftest import Place, signed_in_as

PNG = (
    bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"\0" * 64
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 64


def _package(main_part: str, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("_rels/.rels", "<Relationships/>")
        package.writestr(main_part, "<document/>")
        for name, content in (extra or {}).items():
            package.writestr(name, content)
    return buffer.getvalue()


DOCX = _package("word/document.xml")
XLSX = _package("xl/workbook.xml")


@pytest.fixture
def draft(place: Place, dsl: PortalClient) -> str:
    return journey.start_referral(dsl, place.school_id, place.authority_id)


@pytest.mark.parametrize(
    ("content", "name", "kept_as", "media_type"),
    [
        (journey.PDF, "timeline.pdf", "timeline.pdf", "application/pdf"),
        (PNG, "photo.png", "photo.png", "image/png"),
        (JPEG, "photo.jpeg", "photo.jpg", "image/jpeg"),
        (PNG, "photo.jpg", "photo.png", "image/png"),  # named wrongly: its content decides
        (
            DOCX,
            "notes.docx",
            "notes.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            XLSX,
            "..\\..\\C:\\evil/rota.xlsx",
            "rota.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ],
)
def test_an_allowed_file_is_kept_sealed_and_downloaded_as_an_attachment(
    app: Flask,
    place: Place,
    dsl: PortalClient,
    draft: str,
    content: bytes,
    name: str,
    kept_as: str,
    media_type: str,
) -> None:
    response = journey.upload(dsl, draft, content, name)
    assert response.status_code == 302
    page = dsl.get(f"{draft}/files").get_data(as_text=True)
    assert f"{kept_as} has been uploaded" in page
    with app.app_context():
        attachment = db.session.scalars(select(CaseAttachment)).one()
        assert attachment.filename == kept_as
        assert attachment.media_type == media_type
        assert attachment.size == len(content)
        download_url = f"{draft}/files/{attachment.id}"
    # A colleague downloads it: the bytes as sent, never shown in the browser.
    colleague = signed_in_as(app, place.colleague)
    download = colleague.get(download_url)
    assert download.status_code == 200
    assert download.data == content
    assert download.headers["Content-Type"].startswith(media_type)
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert kept_as in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]
    with app.app_context():
        kinds = db.session.scalars(
            select(AuditEvent.kind).where(AuditEvent.case_id == journey.case_id_of(draft))
        ).all()
        assert AuditKind.ATTACHMENT_ADDED in kinds
        assert AuditKind.ATTACHMENT_DOWNLOADED in kinds


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"just some text, not a PDF at all", "statement.pdf", uploads.WRONG_TYPE),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 200, "photo.png", uploads.WRONG_TYPE),
        (b"<html><script>alert(1)</script></html>", "page.pdf", uploads.WRONG_TYPE),
        (_package("payload.exe"), "notes.docx", uploads.WRONG_TYPE),  # a ZIP, not Word
        (b"PK\x03\x04 not really a zip", "notes.docx", uploads.WRONG_TYPE),
        (b"GIF89a" + b"\0" * 64, "animation.gif", uploads.WRONG_TYPE),
        (b"", "empty.pdf", uploads.EMPTY),
        (
            journey.PDF + b"\0" * (MAX_FILE_BYTES + 1 - len(journey.PDF)),
            "big.pdf",
            uploads.TOO_LARGE,
        ),
    ],
)
def test_a_file_that_is_not_allowed_is_refused_with_a_reason(
    app: Flask, dsl: PortalClient, draft: str, content: bytes, name: str, message: str
) -> None:
    response = journey.upload(dsl, draft, content, name)
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "There is a problem" in page
    assert page.count(message) == 2
    with app.app_context():
        assert db.session.scalars(select(CaseAttachment)).all() == []


def test_no_file_chosen(dsl: PortalClient, draft: str) -> None:
    response = dsl.submit(f"{draft}/files", {})
    assert response.status_code == 200
    assert response.get_data(as_text=True).count(uploads.NONE_CHOSEN) == 2


def test_a_request_over_the_limit_returns_to_the_page_with_the_reason(
    app: Flask, dsl: PortalClient, draft: str
) -> None:
    too_big = b"%PDF-1.4\n" + b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = journey.upload(dsl, draft, too_big, "huge.pdf")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{draft}/files?error=too-large"
    page = dsl.get(response.headers["Location"]).get_data(as_text=True)
    assert page.count(uploads.TOO_LARGE) == 2


def test_a_referral_holds_at_most_so_many_files(app: Flask, dsl: PortalClient, draft: str) -> None:
    for number in range(uploads.MAX_FILES):
        assert journey.upload(dsl, draft, PNG, f"photo{number}.png").status_code == 302
    response = journey.upload(dsl, draft, PNG, "one-too-many.png")
    assert uploads.TOO_MANY in html.unescape(response.get_data(as_text=True))


def test_a_removed_file_is_gone_with_its_sealed_bytes(
    app: Flask, dsl: PortalClient, draft: str
) -> None:
    journey.upload(dsl, draft)
    with app.app_context():
        attachment = db.session.scalars(select(CaseAttachment)).one()
        file_url = f"{draft}/files/{attachment.id}"
        file_id = attachment.file_id
    response = dsl.submit(f"{file_url}/remove", {})
    assert response.headers["Location"] == f"{draft}/files"
    assert dsl.get(file_url).status_code == 404
    with app.app_context():
        from portal.models import StoredFile

        assert db.session.get(StoredFile, file_id) is None


def test_the_download_of_a_sent_referral_stays_with_its_organisation(
    app: Flask, place: Place, dsl: PortalClient, draft: str
) -> None:
    journey.fill_in(dsl, draft)
    journey.send(dsl, draft)
    with app.app_context():
        attachment = db.session.scalars(select(CaseAttachment)).one()
    file_url = f"{draft}/files/{attachment.id}"
    assert dsl.get(file_url).status_code == 200  # still downloadable once sent
    assert dsl.get(f"{file_url}/remove").headers["Location"] == draft  # but not removable
    other = signed_in_as(app, place.other_dsl)
    assert other.get(file_url).status_code == 404
    moved = file_url.replace(str(place.school_id), str(place.other_school_id))
    assert other.get(moved).status_code == 404
