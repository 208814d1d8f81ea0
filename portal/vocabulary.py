"""The lists the LADO world uses, from ../shared/domain.md, each value with its label.

Values are stored in the database and never change; labels are what people read.
"""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose members carry a human label: ``Member = ("value", "Label")``."""

    label: str

    def __new__(cls, value: str, label: str) -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]


class OrganisationType(LabelledEnum):
    """Who an organisation is, in the categories annual reports count contacts by."""

    EDUCATION = ("education", "Education: a school, academy trust, college or nursery")
    HEALTH = ("health", "Health")
    LOCAL_AUTHORITY = (
        "local_authority",
        "Local authority, not social care (for example HR or transport)",
    )
    CHILDRENS_SOCIAL_CARE = ("childrens_social_care", "Local authority children's social care")
    EXTERNAL_SOCIAL_CARE = (
        "external_social_care",
        "External social care provider (fostering agency, residential care, another LADO)",
    )
    VOLUNTARY_REGULATORY = (
        "voluntary_regulatory",
        "Voluntary, community, regulatory or legal body (for example a sports club, "
        "Ofsted, Cafcass, NSPCC)",
    )
    POLICE = ("police", "Police")


class SectorGroup(LabelledEnum):
    """The sector an organisation works in: the top level of the annual report's list."""

    EDUCATION = ("education", "Education")
    EARLY_YEARS = ("early_years", "Early years and day care")
    FOSTERING = ("fostering", "Fostering")
    RESIDENTIAL_CARE = ("residential_care", "Residential care")
    HEALTH = ("health", "Health")
    SOCIAL_WORK = ("social_work", "Social work")
    POLICE = ("police", "Police")
    PROBATION = ("probation", "Probation")
    TRANSPORT = ("transport", "Transport")
    SPORT = ("sport", "Sport")
    FAITH = ("faith", "Faith")
    YOUTH_WORK = ("youth_work", "Youth work")
    VOLUNTARY = ("voluntary", "Voluntary organisation")
    OTHER = ("other", "Other")


class MeetingName(LabelledEnum):
    """What an authority calls its allegations meeting."""

    ASV = ("ASV", "ASV: Allegations against Staff and Volunteers meeting")
    POT = ("POT", "POT: Position of Trust meeting")
    AMM = ("AMM", "AMM: Allegations Management Meeting")
