"""Importing a council's historic tracker: a year matching Bromley's 2022/23 (from
../shared/domain.md) is imported with the command and the annual report shows exactly
its figures; a dry run and a second import write nothing; every kind of bad file is
refused with row-level reasons, and nothing is written."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import Workbook
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Authority, Case, Role
from portal.reports.annual import annual_report
from portal.tracker import TEMPLATE
from tests.factories import make_account, make_authority

HEADER = [column.name for column in TEMPLATE]
START = date(2022, 4, 1)


def bromley_rows() -> list[dict[str, str]]:
    """500 contacts: 288 consultations, 212 referrals; of the referrals 55 substantiated,
    19 unsubstantiated, 47 unfounded, 1 false, 0 malicious, 90 ongoing; 38 referrals on
    (Ofsted 20, DBS 12, sports bodies 3, TRA 2, police 1)."""
    rows = []
    outcomes = (
        ["substantiated"] * 55 + ["unsubstantiated"] * 19 + ["unfounded"] * 47 + ["false"]
        + [""] * 90
    )  # fmt: skip
    onward = ["ofsted"] * 20 + ["dbs"] * 12 + ["sports_body"] * 3 + ["tra"] * 2 + ["police"]
    for number in range(500):
        received = START + timedelta(days=number % 365)
        row = dict.fromkeys(HEADER, "")
        row |= {
            "reference": f"BRM-{number:04d}",
            "received_on": received.strftime("%d/%m/%Y"),
            "decision": "consultation",
            "source": "education",
            "harm_category": "physical",
            "subject_sector": "teaching",
        }
        if number < 212:
            row["decision"] = "referral"
            if outcomes[number]:
                row["outcome"] = outcomes[number]
                row["outcome_on"] = (received + timedelta(days=40)).strftime("%d/%m/%Y")
            if number < len(onward):
                row["referred_to"] = onward[number]
                row["referred_on"] = (received + timedelta(days=50)).strftime("%d/%m/%Y")
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def authority(app: Flask) -> str:
    authority_id = make_authority(app, code="BRM")
    make_account(app, Role.AUTHORITY_ADMIN, authority_id=authority_id)
    return "BRM"


def _import(app: Flask, path: Path, *options: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(
        args=["import-tracker", str(path), "--authority", "BRM", *options]
    )
    return result.exit_code, result.output


def _cases(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case)) or 0


def test_a_bromley_year_imported_gives_bromleys_annual_report(
    app: Flask, authority: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "tracker.csv", bromley_rows())
    code, output = _import(app, path, "--dry-run")
    assert code == 0, output
    assert "500 row(s) would be imported" in output
    assert _cases(app) == 0
    code, output = _import(app, path)
    assert code == 0, output
    assert "Imported 500 row(s)" in output
    with app.app_context():
        found = db.session.scalars(select(Authority).where(Authority.code == "BRM")).one()
        tables = {t.key: t for t in annual_report(found, 2022).tables}
    assert tables["summary"].rows == [["2022/23", 500, 288, 212, 0, 42.4]]
    outcomes = {row[0]: row[1] for row in tables["outcomes"].rows}
    assert outcomes == {
        "Substantiated": 55,
        "Unsubstantiated": 19,
        "Unfounded": 47,
        "False": 1,
        "Malicious": 0,
        "Ongoing": 90,
    }
    onward = {row[0]: row[1] for row in tables["regulators"].rows}
    assert onward["Ofsted"] == 20
    assert onward["Disclosure and Barring Service (DBS)"] == 12
    assert onward["A sports governing body (the FA, ECB, British Gymnastics...)"] == 3
    assert onward["Teaching Regulation Agency (TRA)"] == 2
    assert onward["The police"] == 1
    assert onward["Total"] == 38
    # The same file again adds nothing.
    code, output = _import(app, path)
    assert code == 0, output
    assert "Imported 0 row(s); 500 were already imported" in output
    assert _cases(app) == 500


def _bad(app: Flask, path: Path) -> str:
    code, output = _import(app, path)
    assert code != 0
    assert _cases(app) == 0  # all or nothing
    return output


def test_every_problem_is_reported_by_row_and_nothing_is_written(
    app: Flask, authority: str, tmp_path: Path
) -> None:
    rows = bromley_rows()[:6]
    rows[1]["source"] = "the moon"
    rows[2]["received_on"] = "32/13/2022"
    rows[3]["reference"] = rows[0]["reference"]
    rows[4]["received_on"] = "=TODAY()"
    rows[5]["decision"] = "consultation"  # with its outcome still there: a consultation has none
    output = _bad(app, write_csv(tmp_path / "bad.csv", rows))
    assert "Row 3, column source ('the moon'): Not one of:" in output
    assert "Row 4, column received_on ('32/13/2022'): Not a date" in output
    assert "Row 5, column reference ('BRM-0000'): The same as row 2" in output
    assert "Row 6, column received_on ('=TODAY()'): A formula, which is not evaluated" in output
    assert "Row 7, column outcome ('substantiated'): Only a referral has an outcome" in output


def test_unknown_columns_an_empty_file_a_huge_one_and_a_formula_in_a_workbook(
    app: Flask, authority: str, tmp_path: Path
) -> None:
    output = _bad(app, write_csv(tmp_path / "x.csv", [], header=[*HEADER, "colour"]))
    assert "column colour: Not a column of the template" in output
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "The file is empty" in _bad(app, empty)
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as out:
        out.write(b"x" * (50 * 1024 * 1024))
    assert "The file must be smaller than 20MB" in _bad(app, huge)
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["BRM-1", "01/05/2022", "consultation", "=1+1"])
    workbook = tmp_path / "tracker.xlsx"
    book.save(workbook)
    assert "Row 2, column source ('=1+1'): A formula, which is not evaluated" in _bad(app, workbook)
    text = tmp_path / "tracker.txt"
    text.write_text("reference\n")
    assert "must be a CSV or an Excel workbook" in _bad(app, text)


def test_the_template_lists_every_column_and_imports_as_it_is(
    app: Flask, authority: str, tmp_path: Path
) -> None:
    from portal.tracker import template_csv

    example = tmp_path / "template.csv"
    example.write_text(template_csv())
    assert next(csv.reader(io.StringIO(template_csv()))) == HEADER
    code, output = _import(app, example)
    assert code == 0, output
    assert "Imported 2 row(s)" in output


def test_an_administrator_checks_then_imports_a_tracker_on_the_page(
    app: Flask, tmp_path: Path
) -> None:
    from tests.referrals.conftest import signed_in_as

    authority_id = make_authority(app, code="BRM")
    admin = signed_in_as(app, make_account(app, Role.AUTHORITY_ADMIN, authority_id=authority_id))
    url = f"/authorities/{authority_id}/tracker"
    assert "reference,received_on,decision" in admin.get(f"{url}/template.csv").get_data(
        as_text=True
    )
    good = write_csv(tmp_path / "good.csv", bromley_rows()[:20]).read_bytes()
    bad_rows = bromley_rows()[:3]
    bad_rows[2]["harm_category"] = "unknown"
    bad = write_csv(tmp_path / "bad.csv", bad_rows).read_bytes()

    def send(content: bytes, button: str, name: str = "tracker.csv") -> str:
        admin.get(url)
        response = admin.post(
            url,
            data={
                "csrf_token": admin.csrf_token,
                "file": (io.BytesIO(content), name),
                button: "go",
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "Choose the tracker file" in send(b"", "check", name="")
    page = send(bad, "import_")
    assert "Nothing was imported: 1 problem to correct" in page
    assert "Row 4, column harm_category" in page
    assert _cases(app) == 0
    assert "20 contacts can be imported" in send(good, "check")
    assert _cases(app) == 0  # checking writes nothing
    assert "20 contacts imported" in send(good, "import_")
    assert _cases(app) == 20
    assert "already imported" in send(good, "import_")
    assert _cases(app) == 20
    lado = signed_in_as(app, make_account(app, Role.LADO, authority_id=authority_id))
    assert lado.get(url).status_code == 403  # the administrators' page
