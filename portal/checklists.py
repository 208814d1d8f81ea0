"""The pre-meeting checklists the LADO asks each agency to answer (../shared/domain.md):
children's services, police, and the employer. Defined here once, as data: one form
draws any of them, and an authority adds its own questions to one (stored with the
authority, asked before the closing "anything else").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from portal.vocabulary import LabelledEnum, OrganisationType, labels


class Agency(LabelledEnum):
    """Which checklist an organisation is asked to answer for a meeting."""

    CHILDRENS_SERVICES = "childrens_services"
    POLICE = "police"
    EMPLOYER = "employer"


labels(
    Agency,
    {
        "childrens_services": "Children's services",
        "police": "Police",
        "employer": "Employer or HR",
    },
)


@dataclass(frozen=True)
class Question:
    key: str  # stable: answers are stored under it
    text: str
    hint: str = ""


@dataclass(frozen=True)
class Checklist:
    agency: Agency
    questions: tuple[Question, ...]
    guidance: str = ""


ANYTHING_ELSE = Question(
    "anything_else",
    "Anything else that helps the risk analysis",
    "This list is not exhaustive: tell the LADO whatever else they should know.",
)

CHECKLISTS: dict[Agency, Checklist] = {
    Agency.CHILDRENS_SERVICES: Checklist(
        Agency.CHILDRENS_SERVICES,
        (
            Question("assessment", "Assessment update"),
            Question("chronology", "Chronology", "The timeline of your involvement."),
            Question(
                "child_protection",
                "Child protection conference and plan",
                "Any conference held or planned, and an update on the plan.",
            ),
            Question("contact", "Contact issues"),
            Question("risk_analysis", "Risk analysis"),
            Question(
                "transferable_risk",
                "Transferable risk to the workplace",
                "Your analysis of whether the concern could affect their work with children.",
            ),
            Question(
                "occupation",
                "What the person has said about their occupation",
            ),
        ),
    ),
    Agency.POLICE: Checklist(
        Agency.POLICE,
        (
            Question(
                "pnc",
                "PNC check",
                "Is the person known to police, and in what capacity?",
            ),
            Question("crime_number", "Crime number"),
            Question("officer_in_charge", "Officer in charge"),
            Question(
                "actions_taken",
                "Actions taken",
                "Who has been seen, and when.",
            ),
            Question("bail", "Bail conditions"),
            Question("interviews", "Interviews", "With their dates."),
            Question("witnesses", "Witnesses"),
            Question("risk_analysis", "Risk analysis"),
            Question("outcomes", "Outcomes"),
        ),
    ),
    Agency.EMPLOYER: Checklist(
        Agency.EMPLOYER,
        (
            Question(
                "conduct",
                "Conduct and capability",
                "Of the employee or volunteer.",
            ),
            Question(
                "training",
                "Training record",
                "Safeguarding, restraint, de-escalation, safer working practice.",
            ),
            Question(
                "employment_history",
                "Employment history",
                "Including start dates.",
            ),
            Question("other_work", "Other places of work"),
            Question("cctv", "CCTV evidence"),
            Question(
                "actions_taken",
                "Actions taken so far",
                "For example suspension or adjusted duties.",
            ),
            Question(
                "dbs",
                "DBS certificate",
                "Its number, type and date.",
            ),
            Question("regulator", "Member of a regulatory body", "Which one, if so."),
            Question(
                "other_capacity",
                "Works in any other capacity with children",
            ),
        ),
        guidance="Do not ask children or staff to make statements.",
    ),
}


def agency_for(organisation_type: OrganisationType) -> Agency:
    """The checklist an organisation is asked by default: police answer the police one,
    children's social care theirs, any other organisation answers as the employer."""
    if organisation_type == OrganisationType.POLICE:
        return Agency.POLICE
    if organisation_type == OrganisationType.CHILDRENS_SOCIAL_CARE:
        return Agency.CHILDRENS_SERVICES
    return Agency.EMPLOYER


def questions(agency: Agency, added: Iterable[Question] = ()) -> list[Question]:
    """The checklist's questions, then the authority's own, then "anything else"."""
    return [*CHECKLISTS[agency].questions, *added, ANYTHING_ELSE]
