"""Importing a council's historic LADO tracker (CSV or XLSX), so its annual reports and
comparisons carry on in the portal.

One row is one contact. The columns and their allowed values are TEMPLATE (the
downloadable example is made from it). Every row is checked first and every problem is
reported (row number, column, value, why); only a file with none is imported, in one
transaction. A reference already in the authority is skipped, so importing the same
file again adds nothing. Personal fields (the subject's name and date of birth) are
sealed like any other case's. Nothing in a cell is ever evaluated: a formula is refused.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from openpyxl import load_workbook
from sqlalchemy import select

from portal.access import staff_of
from portal.extensions import db
from portal.models import (
    Authority,
    Case,
    CaseConclusion,
    CaseEvent,
    CaseStatus,
    OnwardReferral,
    Role,
    Subject,
    User,
)
from portal.outcomes import months_between
from portal.retention import retained_until
from portal.vocabulary import (
    ConcludingAction,
    HarmCategory,
    LabelledEnum,
    OnwardBody,
    Outcome,
    SourceType,
    SubjectSector,
)
from portal.workdays import UK, uk_noon
from portal.workflow import DECISIONS as THRESHOLD_MOVES

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
FORMULA = ("=",)

# What each decision was, as the state machine records it (the report counts these).
DECISIONS: dict[str, tuple[tuple[str, ...], CaseStatus]] = {
    "consultation": (("start_triage", "give_advice", "close"), CaseStatus.CLOSED),
    "referral": (("start_triage", "accept_referral"), CaseStatus.MEETINGS),
    "no_further_action": (("start_triage", "no_further_action", "close"), CaseStatus.CLOSED),
    "insufficient_information": (
        ("start_triage", "insufficient_information", "close"),
        CaseStatus.CLOSED,
    ),
    "transfer": (("start_triage", "transfer"), CaseStatus.TRANSFERRED),
}


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str
    required: bool = False
    values: type[LabelledEnum] | tuple[str, ...] | None = None
    is_date: bool = False
    several: bool = False  # values separated by ";"


TEMPLATE = (
    Column("reference", "The tracker's own reference for the contact", required=True),
    Column("received_on", "When the LADO received it (DD/MM/YYYY)", required=True, is_date=True),
    Column("decision", "What the LADO decided", required=True, values=tuple(DECISIONS)),
    Column("source", "Who the contact came from", values=SourceType),
    Column("harm_category", "The category of harm", values=HarmCategory),
    Column("subject_sector", "The sector the person works in", values=SubjectSector),
    Column("outcome", "A referral's outcome; empty while ongoing", values=Outcome),
    Column("outcome_on", "When the outcome was reached", is_date=True),
    Column("concluding_action", "The concluding action", values=ConcludingAction),
    Column("concluding_action_on", "When it was taken", is_date=True),
    Column("referred_to", "Referrals on, separated by ;", values=OnwardBody, several=True),
    Column("referred_on", "When the person was referred on", is_date=True),
    Column("subject_name", "The person's name (sealed once imported)"),
    Column("subject_date_of_birth", "Their date of birth (sealed)", is_date=True),
)
COLUMNS = {column.name: column for column in TEMPLATE}


@dataclass(frozen=True)
class Problem:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str
    value: str
    why: str

    def __str__(self) -> str:
        where = f"Row {self.row}" if self.row else "The file"
        column = f", column {self.column}" if self.column else ""
        value = f" ({self.value!r})" if self.value else ""
        return f"{where}{column}{value}: {self.why}"


@dataclass
class Checked:
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    already: int = 0  # references already imported: skipped


class TrackerError(Exception):
    """The file cannot be read at all (too big, not a CSV or XLSX)."""


def template_csv() -> str:
    """The downloadable example: the header, a row of each kind, and the allowed values."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.name for column in TEMPLATE])
    writer.writerow(["TRK-2023-0001", "03/04/2023", "consultation", "education", "physical",
                     "teaching", "", "", "", "", "", "", "", ""])  # fmt: skip
    writer.writerow(["TRK-2023-0002", "05/04/2023", "referral", "police", "sexual",
                     "teaching", "substantiated", "20/06/2023", "dismissal", "30/06/2023",
                     "dbs;tra", "05/07/2023", "A Person", "01/02/1980"])  # fmt: skip
    return out.getvalue()


def allowed(column: Column) -> list[str]:
    if column.values is None:
        return []
    if isinstance(column.values, tuple):
        return list(column.values)
    return [member.value for member in column.values]


# Reading


def read(stream: IO[bytes], filename: str) -> Iterator[tuple[int, dict[str, str]]] | Problem:
    """The rows of a CSV or XLSX as (row number, {column: text}); a Problem when the
    header is wrong (unknown columns, required ones missing) or the file is empty."""
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise TrackerError("The file must be smaller than 20MB")
    if not data.strip():
        return Problem(0, "", "", "The file is empty")
    if filename.lower().endswith(".xlsx"):
        grid = _xlsx_rows(data)
    elif filename.lower().endswith(".csv"):
        grid = _csv_rows(data)
    else:
        raise TrackerError("The file must be a CSV or an Excel workbook (XLSX)")
    try:
        header = next(grid)
    except StopIteration:
        return Problem(0, "", "", "The file is empty")
    names = [str(cell).strip().lower() for cell in header]
    unknown = [name for name in names if name and name not in COLUMNS]
    if unknown:
        return Problem(1, unknown[0], "", "Not a column of the template: " + ", ".join(COLUMNS))
    missing = [c.name for c in TEMPLATE if c.required and c.name not in names]
    if missing:
        return Problem(1, missing[0], "", "A required column is missing")
    return (
        (number, {name: cell for name, cell in zip(names, row, strict=False) if name})
        for number, row in enumerate(grid, start=2)
        if any(str(cell).strip() for cell in row)
    )


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return iter(csv.reader(io.StringIO(text)))


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    """Cells as text; a formula's own text (never its cached result, never evaluated)."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # not a workbook: openpyxl raises several kinds
        raise TrackerError("The file is not an Excel workbook (XLSX) that can be read") from error
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        yield ["" if cell is None else _xlsx_text(cell) for cell in row]


def _xlsx_text(cell: Any) -> str:
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


# Checking


def _date(text: str) -> date | None:
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UK).date()
        except ValueError:
            continue
    return None


def _value(column: Column, text: str) -> str | None:
    """The allowed value a cell names (by value or by label, any case), or None."""
    if column.values is None:
        return text
    if isinstance(column.values, tuple):
        return text.lower() if text.lower() in column.values else None
    for member in column.values:
        if text.lower() in (member.value, member.label.lower()):
            return member.value
    return None


def check(rows: Iterable[tuple[int, dict[str, str]]], authority: Authority) -> Checked:
    checked = Checked()
    seen: dict[str, int] = {}
    existing = set(
        db.session.scalars(select(Case.reference).where(Case.authority_id == authority.id))
    )
    for number, raw in rows:
        if number > MAX_ROWS + 1:
            checked.problems.append(Problem(number, "", "", f"More than {MAX_ROWS:,} rows"))
            break
        row, problems = _check_row(number, raw)
        reference = row.get("reference")
        if reference in seen:
            problems.append(
                Problem(number, "reference", reference, f"The same as row {seen[reference]}")
            )
        elif reference:
            seen[reference] = number
        checked.problems += problems
        if problems:
            continue
        if reference in existing:
            checked.already += 1
        else:
            checked.rows.append(row)
    return checked


def _check_row(number: int, raw: dict[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    row: dict[str, Any] = {}
    problems = []

    def problem(name: str, text: str, why: str) -> None:
        problems.append(Problem(number, name, text, why))

    for column in TEMPLATE:
        text = str(raw.get(column.name, "")).strip()
        if text.startswith(FORMULA):
            problem(column.name, text, "A formula, which is not evaluated: type the value")
            continue
        if not text:
            if column.required:
                problem(column.name, text, "Needed")
            continue
        if column.is_date:
            day = _date(text)
            if day is None:
                problem(column.name, text, "Not a date: write it as DD/MM/YYYY")
            else:
                row[column.name] = day
        elif column.values is not None:
            parts = [p.strip() for p in text.split(";")] if column.several else [text]
            values = [_value(column, part) for part in parts if part]
            if None in values:
                problem(column.name, text, "Not one of: " + ", ".join(allowed(column)))
            else:
                row[column.name] = values if column.several else values[0]
        else:
            row[column.name] = text
    for first, then in (("outcome", "outcome_on"), ("concluding_action", "concluding_action_on"),
                        ("referred_to", "referred_on")):  # fmt: skip
        if first in row and then not in row and not any(p.column == then for p in problems):
            problem(then, "", f"Needed with {first}")
    if "outcome" in row and row.get("decision") != "referral":
        problem("outcome", row["outcome"], "Only a referral has an outcome")
    return row, problems


def check_file(stream: IO[bytes], filename: str, authority: Authority) -> Checked:
    """Read and check a whole file (a TrackerError if it cannot be read at all)."""
    rows = read(stream, filename)
    if isinstance(rows, Problem):
        return Checked(problems=[rows])
    return check(rows, authority)


# Importing


def importer_for(authority: Authority) -> User | None:
    """Whom an import from the command line is recorded as: an administrator or LADO
    manager of the authority."""
    for user in db.session.scalars(staff_of(authority)):
        if any(
            m.is_active
            and m.authority_id == authority.id
            and m.role in (Role.AUTHORITY_ADMIN, Role.LADO_MANAGER)
            for m in user.memberships
        ):
            return user
    return None


def import_rows(authority: Authority, actor: User, rows: list[dict[str, Any]]) -> int:
    """Every checked row as a case, in the caller's transaction."""
    for row in rows:
        _import(authority, actor, row)
    return len(rows)


def _import(authority: Authority, actor: User, row: dict[str, Any]) -> None:
    moves, status = DECISIONS[row["decision"]]
    received = uk_noon(row["received_on"])
    outcome = Outcome(row["outcome"]) if "outcome" in row else None
    if row["decision"] == "referral" and outcome is not None:
        status = CaseStatus.CLOSED
        moves = (*moves, "record_outcome")
    case = Case(
        id=uuid.uuid4(),
        authority_id=authority.id,
        status=status,
        reference=row["reference"],
        logged=True,
        source_type=SourceType(row["source"]) if "source" in row else None,
        harm_category=HarmCategory(row["harm_category"]) if "harm_category" in row else None,
        created_by_id=actor.id,
        created_at=received,
        submitted_at=received,
        received_at=received,
        completed_sections=[],
        decision=next(move for move in moves if move in THRESHOLD_MOVES),
        outcome=outcome,
        outcome_on=row.get("outcome_on"),
        outcome_months=months_between(row["received_on"], row["outcome_on"]) if outcome else None,
    )
    if outcome is not None:
        case.retained_until = retained_until(row["received_on"], row.get("subject_date_of_birth"))
        case.remove_from_personnel_records = outcome == Outcome.MALICIOUS
    db.session.add(case)
    subject = Subject(
        id=uuid.uuid4(),
        case_id=case.id,
        authority_id=authority.id,
        sector=SubjectSector(row["subject_sector"]) if "subject_sector" in row else None,
    )
    if "subject_name" in row:
        subject.full_name = row["subject_name"]
    if "subject_date_of_birth" in row:
        subject.date_of_birth = row["subject_date_of_birth"]
    db.session.add(subject)
    for move in moves:
        db.session.add(
            CaseEvent(
                id=uuid.uuid4(),
                case_id=case.id,
                authority_id=authority.id,
                transition=move,
                from_status=CaseStatus.SUBMITTED,
                to_status=status,
                occurred_at=received,
                actor_id=actor.id,
                detail={"imported": True},
            )
        )
    if "concluding_action" in row:
        db.session.add(
            CaseConclusion(
                id=uuid.uuid4(),
                case_id=case.id,
                authority_id=authority.id,
                kind=ConcludingAction(row["concluding_action"]),
                on=row["concluding_action_on"],
            )
        )
    for body in row.get("referred_to", []):
        db.session.add(
            OnwardReferral(
                id=uuid.uuid4(),
                case_id=case.id,
                authority_id=authority.id,
                body=OnwardBody(body),
                on=row["referred_on"],
            )
        )
