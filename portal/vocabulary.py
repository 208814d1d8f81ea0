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


# Referrals


class SourceType(LabelledEnum):
    """Who a contact came from, as annual reports count them. A partner's referral takes
    its organisation's type; a contact the LADO logs is given one."""

    PUBLIC = "public"
    EDUCATION = "education"
    HEALTH = "health"
    LOCAL_AUTHORITY = "local_authority"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    EXTERNAL_SOCIAL_CARE = "external_social_care"
    VOLUNTARY_REGULATORY = "voluntary_regulatory"
    POLICE = "police"

    @classmethod
    def of(cls, organisation_type: OrganisationType) -> SourceType:
        return cls(organisation_type.value)


labels(
    SourceType,
    {
        "public": "Family, member of the public or anonymous",
        **{member.value: member.label for member in OrganisationType},
    },
)


class SubjectSector(LabelledEnum):
    """Where the person of concern works or volunteers: the annual report's list."""

    TEACHING = "teaching"
    TEACHING_SUPPORT = "teaching_support"
    EDUCATION_NON_TEACHING = "education_non_teaching"
    EARLY_YEARS = "early_years"
    FOSTER_CARER_LOCAL_AUTHORITY = "foster_carer_local_authority"
    FOSTER_CARER_AGENCY = "foster_carer_agency"
    FOSTER_CARER_KINSHIP = "foster_carer_kinship"
    RESIDENTIAL_LOCAL_AUTHORITY = "residential_local_authority"
    RESIDENTIAL_PRIVATE = "residential_private"
    HEALTH = "health"
    SOCIAL_WORK = "social_work"
    POLICE = "police"
    PROBATION = "probation"
    TRANSPORT = "transport"
    SPORT = "sport"
    FAITH = "faith"
    YOUTH_WORK = "youth_work"
    VOLUNTEER = "volunteer"
    OTHER = "other"

    @property
    def group(self) -> SectorGroup:
        """The top-level sector, for reports that count by group."""
        return SECTOR_GROUPS.get(self) or SectorGroup(self.value)


SECTOR_GROUPS = {
    SubjectSector.TEACHING: SectorGroup.EDUCATION,
    SubjectSector.TEACHING_SUPPORT: SectorGroup.EDUCATION,
    SubjectSector.EDUCATION_NON_TEACHING: SectorGroup.EDUCATION,
    SubjectSector.FOSTER_CARER_LOCAL_AUTHORITY: SectorGroup.FOSTERING,
    SubjectSector.FOSTER_CARER_AGENCY: SectorGroup.FOSTERING,
    SubjectSector.FOSTER_CARER_KINSHIP: SectorGroup.FOSTERING,
    SubjectSector.RESIDENTIAL_LOCAL_AUTHORITY: SectorGroup.RESIDENTIAL_CARE,
    SubjectSector.RESIDENTIAL_PRIVATE: SectorGroup.RESIDENTIAL_CARE,
    SubjectSector.VOLUNTEER: SectorGroup.VOLUNTARY,
}

labels(
    SubjectSector,
    {
        "teaching": "Education: teaching",
        "teaching_support": "Education: teaching or learning support",
        "education_non_teaching": "Education: non-teaching staff",
        "early_years": "Early years or day care",
        "foster_carer_local_authority": "Foster carer: local authority",
        "foster_carer_agency": "Foster carer: independent fostering agency",
        "foster_carer_kinship": "Foster carer: kinship (family and friends)",
        "residential_local_authority": "Residential care: local authority",
        "residential_private": "Residential care: private or voluntary",
        "health": "Health",
        "social_work": "Social work",
        "police": "Police",
        "probation": "Probation",
        "transport": "Transport (for example a taxi or bus driver)",
        "sport": "Sport",
        "faith": "Faith organisation",
        "youth_work": "Youth work",
        "volunteer": "Volunteer",
        "other": "Other, or historical",
    },
)


class HarmCategory(LabelledEnum):
    """The DfE descriptors annual reports count by."""

    PHYSICAL = "physical"
    SEXUAL = "sexual"
    EMOTIONAL = "emotional"
    NEGLECT = "neglect"
    TRANSFERABLE_RISK = "transferable_risk"


labels(
    HarmCategory,
    {
        "physical": "Physical abuse",
        "sexual": "Sexual abuse",
        "emotional": "Emotional abuse",
        "neglect": "Neglect",
        "transferable_risk": "Transferable risk or behaviour in their personal life",
    },
)


class ThresholdCriterion(LabelledEnum):
    """The four criteria of the harm threshold (Keeping Children Safe in Education)."""

    HARMED_CHILD = "harmed_child"
    CRIMINAL_OFFENCE = "criminal_offence"
    POSES_RISK = "poses_risk"
    UNSUITABLE = "unsuitable"


labels(
    ThresholdCriterion,
    {
        "harmed_child": "They behaved in a way that has harmed a child, or may have",
        "criminal_offence": "They may have committed a criminal offence against or related "
        "to a child",
        "poses_risk": "They behaved towards a child or children in a way that shows they "
        "may pose a risk of harm to children",
        "unsuitable": "They behaved, or may have, in a way that shows they may not be "
        "suitable to work with children (including outside work)",
    },
)


class Answer(LabelledEnum):
    YES = "yes"
    NO = "no"
    NOT_KNOWN = "not_known"


labels(Answer, {"yes": "Yes", "no": "No", "not_known": "Not known"})


class EmploymentAction(LabelledEnum):
    """What the employer has done about the person so far."""

    SUSPENDED = "suspended"
    DUTIES_ADJUSTED = "duties_adjusted"
    NOTHING_YET = "nothing_yet"
    NOT_APPLICABLE = "not_applicable"


labels(
    EmploymentAction,
    {
        "suspended": "Suspended",
        "duties_adjusted": "Duties changed or restricted",
        "nothing_yet": "Nothing yet",
        "not_applicable": "Not applicable: they do not work for us",
    },
)


class RegulatoryBody(LabelledEnum):
    TRA = "tra"
    GMC = "gmc"
    NMC = "nmc"
    HCPC = "hcpc"
    SOCIAL_WORK_ENGLAND = "social_work_england"
    OFSTED = "ofsted"
    SPORTS_BODY = "sports_body"
    OTHER = "other"


labels(
    RegulatoryBody,
    {
        "tra": "Teaching Regulation Agency",
        "gmc": "General Medical Council",
        "nmc": "Nursing and Midwifery Council",
        "hcpc": "Health and Care Professions Council",
        "social_work_england": "Social Work England",
        "ofsted": "Ofsted (registered childminder or provider)",
        "sports_body": "A sports governing body",
        "other": "Another body",
    },
)


class ChildGender(LabelledEnum):
    GIRL = "girl"
    BOY = "boy"
    ANOTHER = "another"
    NOT_KNOWN = "not_known"


labels(
    ChildGender,
    {"girl": "Girl", "boy": "Boy", "another": "In another way", "not_known": "Not known"},
)


class ContactMethod(LabelledEnum):
    """How a contact the LADO logs reached them."""

    PHONE = "phone"
    EMAIL = "email"
    LETTER = "letter"
    IN_PERSON = "in_person"


labels(
    ContactMethod,
    {"phone": "Phone", "email": "Email", "letter": "Letter", "in_person": "In person"},
)


class Outcome(LabelledEnum):
    """The five statutory outcomes of a referral (KCSIE), on the balance of
    probabilities. A referral without one is "ongoing"."""

    SUBSTANTIATED = "substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    UNFOUNDED = "unfounded"
    FALSE = "false"
    MALICIOUS = "malicious"


labels(
    Outcome,
    {
        "substantiated": "Substantiated",
        "unsubstantiated": "Unsubstantiated",
        "unfounded": "Unfounded",
        "false": "False",
        "malicious": "Malicious",
    },
)

# What each outcome means, shown beside the choice (../shared/domain.md).
OUTCOME_DEFINITIONS = {
    Outcome.SUBSTANTIATED: "There is sufficient evidence to prove the allegation, or it is "
    "admitted.",
    Outcome.UNSUBSTANTIATED: "There is insufficient evidence either to prove or disprove the "
    "allegation. It implies neither guilt nor innocence.",
    Outcome.UNFOUNDED: "There is no evidence or proper basis to support the allegation. The "
    "person making it may have misinterpreted the incident or been mistaken.",
    Outcome.FALSE: "There is sufficient evidence to disprove the allegation.",
    Outcome.MALICIOUS: "There is sufficient evidence to disprove the allegation, and there "
    "has been a deliberate act to deceive.",
}


class ConcludingAction(LabelledEnum):
    """What the employer (or the LADO) did at the end: annual reports count them."""

    DISMISSAL = "dismissal"
    RESIGNATION = "resignation"
    CESSATION_OF_USE = "cessation_of_use"
    SUSPENSION_LIFTED = "suspension_lifted"
    WRITTEN_WARNING = "written_warning"
    VERBAL_WARNING = "verbal_warning"
    TRAINING = "training"
    MANAGEMENT_ADVICE = "management_advice"
    NO_FURTHER_ACTION = "no_further_action"


labels(
    ConcludingAction,
    {
        "dismissal": "Dismissal",
        "resignation": "Resignation",
        "cessation_of_use": "Cessation of use (volunteer, agency worker, carer)",
        "suspension_lifted": "Suspension lifted",
        "written_warning": "Written warning",
        "verbal_warning": "Verbal warning",
        "training": "Further training",
        "management_advice": "Management advice",
        "no_further_action": "No further action",
    },
)


class OnwardBody(LabelledEnum):
    """Where the LADO or the employer referred the person on: the DBS and the regulators."""

    DBS = "dbs"
    OFSTED = "ofsted"
    TRA = "tra"
    GMC = "gmc"
    NMC = "nmc"
    HCPC = "hcpc"
    SOCIAL_WORK_ENGLAND = "social_work_england"
    SPORTS_BODY = "sports_body"
    POLICE = "police"
    OTHER = "other"


labels(
    OnwardBody,
    {
        "dbs": "Disclosure and Barring Service (DBS)",
        "ofsted": "Ofsted",
        "tra": "Teaching Regulation Agency (TRA)",
        "gmc": "General Medical Council (GMC)",
        "nmc": "Nursing and Midwifery Council (NMC)",
        "hcpc": "Health and Care Professions Council (HCPC)",
        "social_work_england": "Social Work England",
        "sports_body": "A sports governing body (the FA, ECB, British Gymnastics...)",
        "police": "The police",
        "other": "Another body",
    },
)
