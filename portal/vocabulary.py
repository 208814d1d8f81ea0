"""The lists the LADO world uses, from ../shared/domain.md, each value with its label.

Values are stored in the database and never change; labels are what people read.
"""

from __future__ import annotations

from enum import StrEnum

_LABELS: dict[type[LabelledEnum], dict[str, str]] = {}


class LabelledEnum(StrEnum):
    """A StrEnum whose members have a label for people, registered with ``labels()``."""

    @property
    def label(self) -> str:
        return _LABELS[type(self)][self.value]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]


def labels(enum_class: type[LabelledEnum], names: dict[str, str]) -> None:
    """Give every member of the enum its label (a missing one is a bug, caught at import)."""
    missing = {member.value for member in enum_class} - names.keys()
    if missing:
        raise ValueError(f"{enum_class.__name__} has no label for {sorted(missing)}")
    _LABELS[enum_class] = names


class OrganisationType(LabelledEnum):
    """Who an organisation is, in the categories annual reports count contacts by."""

    EDUCATION = "education"
    HEALTH = "health"
    LOCAL_AUTHORITY = "local_authority"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    EXTERNAL_SOCIAL_CARE = "external_social_care"
    VOLUNTARY_REGULATORY = "voluntary_regulatory"
    POLICE = "police"


labels(
    OrganisationType,
    {
        "education": "Education: a school, academy trust, college or nursery",
        "health": "Health",
        "local_authority": "Local authority, not social care (for example HR or transport)",
        "childrens_social_care": "Local authority children's social care",
        "external_social_care": (
            "External social care provider (fostering agency, residential care, another LADO)"
        ),
        "voluntary_regulatory": (
            "Voluntary, community, regulatory or legal body (for example a sports club, "
            "Ofsted, Cafcass, NSPCC)"
        ),
        "police": "Police",
    },
)


class SectorGroup(LabelledEnum):
    """The sector an organisation works in: the top level of the annual report's list."""

    EDUCATION = "education"
    EARLY_YEARS = "early_years"
    FOSTERING = "fostering"
    RESIDENTIAL_CARE = "residential_care"
    HEALTH = "health"
    SOCIAL_WORK = "social_work"
    POLICE = "police"
    PROBATION = "probation"
    TRANSPORT = "transport"
    SPORT = "sport"
    FAITH = "faith"
    YOUTH_WORK = "youth_work"
    VOLUNTARY = "voluntary"
    OTHER = "other"


labels(
    SectorGroup,
    {
        "education": "Education",
        "early_years": "Early years and day care",
        "fostering": "Fostering",
        "residential_care": "Residential care",
        "health": "Health",
        "social_work": "Social work",
        "police": "Police",
        "probation": "Probation",
        "transport": "Transport",
        "sport": "Sport",
        "faith": "Faith",
        "youth_work": "Youth work",
        "voluntary": "Voluntary organisation",
        "other": "Other",
    },
)


class MeetingName(LabelledEnum):
    """What an authority calls its allegations meeting."""

    ASV = "ASV"
    POT = "POT"
    AMM = "AMM"


labels(
    MeetingName,
    {
        "ASV": "ASV: Allegations against Staff and Volunteers meeting",
        "POT": "POT: Position of Trust meeting",
        "AMM": "AMM: Allegations Management Meeting",
    },
)
