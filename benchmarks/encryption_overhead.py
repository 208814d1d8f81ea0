"""What field-level encryption costs a page and a bulk read.

    .venv/bin/python -m benchmarks.encryption_overhead [sqlite] [postgresql]

10,000 records with 5 text fields, once sealed and once in clear, on a file-backed
SQLite database and on PostgreSQL, in one run, sealed and clear timed alternately:

- a 50-row list page: a signed-in GET through the whole stack (session, access rule,
  ORM, the portal's GOV.UK layout and table), showing every field of every row;
- the same 50 rows through the ORM alone (the part encryption touches);
- a full read of the 10,000 records, every field, through the ORM;
- opening one field of up to 1 KiB (the key manager's own cost), beside AES-GCM alone.

Goals (issue 4): page ratio <= 1.3 and no more than 2 ms slower; <= 10 us per field.
"""

from __future__ import annotations

import os
import sys
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, render_template_string
from sqlalchemy import select

from benchmarks.common import (
    FIELDS,
    PlainRecord,
    SealedRecord,
    bench_app,
    create_bench_tables,
    interleaved,
    median,
    run_on_databases,
)
from portal import keystore
from portal.access import signed_in
from portal.crypto.keys import KeyOwner
from portal.extensions import db
from portal.models import Role, User
from tests.client import PortalClient
from tests.factories import make_account, make_authority, sign_in

RECORDS = int(os.environ.get("BENCH_RECORDS", "10000"))
PAGE = 50
PAGE_TEMPLATE = """{% extends "layouts/wide.html" %}
{% block title %}Records{% endblock %}
{% block page %}
<h1 class="govuk-heading-l">Records</h1>
{{ govukTable({"head": head, "rows": rows, "firstCellIsHeader": true}) }}
{% endblock %}"""


def values(number: int) -> dict[str, str]:
    return {
        "name": f"Person Number {number} Example-Surname",
        "address": f"{number} Long Road, Brookfield, BF{number % 90 + 10} 4XY",
        "phone": f"07700 9{number:05d}",
        "email": f"person.{number}@example.org",
        "narrative": ("What happened, in the referrer's words. " * 8)[: 200 + number % 100],
    }


def load(authority_id: uuid.UUID) -> None:
    for start in range(0, RECORDS, 1000):
        for number in range(start, min(start + 1000, RECORDS)):
            db.session.add(SealedRecord(authority_id=authority_id, **values(number)))
            db.session.add(PlainRecord(authority_id=authority_id, **values(number)))
        db.session.commit()


def read(model: type, limit: int | None) -> int:
    db.session.remove()
    query = select(model).order_by(model.id)  # type: ignore[attr-defined]
    if limit:
        query = query.limit(limit)
    total = 0
    for record in db.session.scalars(query):
        for name in FIELDS:
            total += len(getattr(record, name))
    return total


def add_page(app: Flask) -> None:
    """A list page, as the portal's own are built, for either table."""

    def records_page(model: type) -> str:
        records = db.session.scalars(
            select(model).order_by(model.id).limit(PAGE)  # type: ignore[attr-defined]
        )
        rows = [[{"text": getattr(r, f)} for f in FIELDS] for r in records]
        return render_template_string(
            PAGE_TEMPLATE, rows=rows, head=[{"text": field} for field in FIELDS]
        )

    @signed_in
    def sealed_page(user: User) -> str:
        return records_page(SealedRecord)

    @signed_in
    def plain_page(user: User) -> str:
        return records_page(PlainRecord)

    app.add_url_rule("/bench/sealed", "bench_sealed", sealed_page)
    app.add_url_rule("/bench/plain", "bench_plain", plain_page)


def run(name: str, url: str) -> None:
    app = bench_app(url)
    app.test_client_class = PortalClient
    add_page(app)
    create_bench_tables(app)
    client = app.test_client()
    account = make_account(app, Role.LADO, authority_id=make_authority(app))
    sign_in(client, app, account)  # type: ignore[arg-type]
    client.check_pages = False  # time the portal, not the tests' page checker
    with app.app_context():
        authority_id = uuid.uuid4()
        load(authority_id)

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, response.status_code

    http_sealed, http_plain = interleaved(
        lambda: get("/bench/sealed"), lambda: get("/bench/plain"), 300
    )
    with app.app_context():
        orm_sealed, orm_plain = interleaved(
            lambda: read(SealedRecord, PAGE), lambda: read(PlainRecord, PAGE), 300
        )
        full_sealed, full_plain = interleaved(
            lambda: read(SealedRecord, None), lambda: read(PlainRecord, None), 5
        )
        manager = keystore.keys()
        blob = manager.seal(
            KeyOwner.authority(authority_id), "bench", "field", "row", os.urandom(1024)
        )
        aes = AESGCM(AESGCM.generate_key(256))
        nonce = os.urandom(12)
        raw = aes.encrypt(nonce, os.urandom(1024), b"")
        opened, bare = interleaved(
            lambda: manager.unseal("bench", "field", "row", blob),
            lambda: aes.decrypt(nonce, raw, b""),
            20000,
        )
        db.engine.dispose()
    print(f"\n{name}: {RECORDS} records x {len(FIELDS)} fields")
    for label, sealed_times, plain_times in (
        ("50-row page (HTTP)", http_sealed, http_plain),
        ("50 rows, ORM only", orm_sealed, orm_plain),
    ):
        sealed, plain = median(sealed_times), median(plain_times)
        print(
            f"  {label:19} sealed {sealed * 1e3:6.2f} ms  clear {plain * 1e3:6.2f} ms  "
            f"ratio {sealed / plain:4.2f}  +{(sealed - plain) * 1e3:4.2f} ms  (median of 300)"
        )
    sealed, plain = median(full_sealed), median(full_plain)
    print(
        f"  {'full read, ORM':19} sealed {sealed * 1e3:6.1f} ms  clear {plain * 1e3:6.1f} ms  "
        f"ratio {sealed / plain:4.2f}  "
        f"+{(sealed - plain) / (RECORDS * len(FIELDS)) * 1e6:4.2f} us per field (median of 5)"
    )
    print(
        f"  open one 1 KiB field {median(opened) * 1e6:5.2f} us  "
        f"(AES-GCM alone {median(bare) * 1e6:4.2f} us; median of 20,000)"
    )


if __name__ == "__main__":
    sys.exit(run_on_databases(run))
