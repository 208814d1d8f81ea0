"""Fictional demo data: two authorities, six partner organisations, an account for every
role. Every name is obviously made up and every address is at a reserved ``.example``
domain. The password and TOTP secrets are published in README.md: never load this into a
real deployment (``make run`` loads it only into an empty local database).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from portal.auth import passwords
from portal.extensions import db
from portal.models import (
    Authority,
    Membership,
    Organisation,
    OrganisationAuthority,
    Role,
    User,
    utcnow,
)
from portal.vocabulary import MeetingName, OrganisationType, SectorGroup

DEMO_PASSWORD = "purple-lantern-harbour-42"


@dataclass(frozen=True)
class DemoAuthority:
    code: str
    name: str
    meeting_name: MeetingName
    minutes_working_days: int


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    type: OrganisationType
    sector: SectorGroup
    authorities: tuple[str, ...]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: Role | None  # None: a subject, linked to a case rather than given a role
    place: str  # an authority code or an organisation key
    totp_secret: str

    @property
    def label(self) -> str:
        return self.role.label if self.role else "Subject (no employer)"


AUTHORITIES = (
    DemoAuthority("BRK", "Brookfield Borough Council", MeetingName.ASV, 10),
    DemoAuthority("EAS", "Eastmere City Council", MeetingName.AMM, 15),
)

ORGANISATIONS = (
    DemoOrganisation(
        "oakwood",
        "Oakwood Primary School (demo)",
        OrganisationType.EDUCATION,
        SectorGroup.EDUCATION,
        ("BRK",),
    ),
    DemoOrganisation(
        "riverside",
        "Riverside Academy Trust (demo)",
        OrganisationType.EDUCATION,
        SectorGroup.EDUCATION,
        ("BRK", "EAS"),
    ),
    DemoOrganisation(
        "police",
        "Brookfield and Eastmere Police (demo)",
        OrganisationType.POLICE,
        SectorGroup.POLICE,
        ("BRK", "EAS"),
    ),
    DemoOrganisation(
        "csc",
        "Brookfield Children's Social Care (demo)",
        OrganisationType.CHILDRENS_SOCIAL_CARE,
        SectorGroup.SOCIAL_WORK,
        ("BRK",),
    ),
    DemoOrganisation(
        "harbour",
        "Harbour Fostering Agency (demo)",
        OrganisationType.EXTERNAL_SOCIAL_CARE,
        SectorGroup.FOSTERING,
        ("BRK", "EAS"),
    ),
    DemoOrganisation(
        "juniors",
        "Brookfield Juniors Football Club (demo)",
        OrganisationType.VOLUNTARY_REGULATORY,
        SectorGroup.SPORT,
        ("BRK",),
    ),
)

# The README's table of demo accounts is made from this list: keep them together.
ACCOUNTS = (
    DemoAccount(
        "lado@brookfield.example",
        "Lucy Lado (demo)",
        Role.LADO,
        "BRK",
        "G5Y652L7XLNXI2EUTP2ZUOOBB2KSZL5S",
    ),
    DemoAccount(
        "lado-manager@brookfield.example",
        "Morgan Manager (demo)",
        Role.LADO_MANAGER,
        "BRK",
        "L32RLTAMMXNMRQYOCCKBKPOCLH3XMF2R",
    ),
    # A second manager: destroying records takes two of them.
    DemoAccount(
        "lado-manager-2@brookfield.example",
        "Quinn Manager (demo)",
        Role.LADO_MANAGER,
        "BRK",
        "AIUJ6YXXUNGHHXDGG4OLR56KX7E4RXKU",
    ),
    DemoAccount(
        "support@brookfield.example",
        "Bailey Support (demo)",
        Role.BUSINESS_SUPPORT,
        "BRK",
        "MPKRVO2PWL2E4ZPQDSNK66RIIETFY4FK",
    ),
    DemoAccount(
        "admin@brookfield.example",
        "Ash Admin (demo)",
        Role.AUTHORITY_ADMIN,
        "BRK",
        "2KH5P7WIZJQIN6YJJV2NH7M4ET3DPPFJ",
    ),
    DemoAccount(
        "lado@eastmere.example",
        "Eden Lado (demo)",
        Role.LADO,
        "EAS",
        "7W525AC4JQFU4EGSTQTGOWKO5U2MEN3R",
    ),
    DemoAccount(
        "admin@eastmere.example",
        "Avery Admin (demo)",
        Role.AUTHORITY_ADMIN,
        "EAS",
        "R7MB7B54DP252VXOXCXONCE7BKK5L26Q",
    ),
    DemoAccount(
        "dsl@oakwood.example",
        "Dana Safeguarding (demo)",
        Role.PARTNER_MEMBER,
        "oakwood",
        "ZGIEILFP6UDV2W4RTPSWRME5BCNBDU46",
    ),
    DemoAccount(
        "head@oakwood.example",
        "Harper Head (demo)",
        Role.ORGANISATION_ADMIN,
        "oakwood",
        "BJXCXTHEGEPROWS4AXESJXD7CFSQ5OL2",
    ),
    DemoAccount(
        "hr@riverside.example",
        "Riley Hr (demo)",
        Role.PARTNER_MEMBER,
        "riverside",
        "KQ7MMV34EG4Z4UXU6WGMJRFEETQSC4AH",
    ),
    DemoAccount(
        "officer@police.example",
        "Parker Police (demo)",
        Role.PARTNER_MEMBER,
        "police",
        "CGAQFAHBIP3TYJYVOOWJWT4YQ2J5AAQW",
    ),
    DemoAccount(
        "social-worker@csc.example",
        "Casey Social-Worker (demo)",
        Role.PARTNER_MEMBER,
        "csc",
        "AZBARA3TSV3XWMEZ7FU4K7FMYUONDMJM",
    ),
    DemoAccount(
        "fostering@harbour.example",
        "Frankie Fostering (demo)",
        Role.PARTNER_MEMBER,
        "harbour",
        "V4JAVHH3KBLVOH7RZRYKJUAEBFSH74H5",
    ),
    DemoAccount(
        "welfare@juniors.example",
        "Wren Welfare (demo)",
        Role.ORGANISATION_ADMIN,
        "juniors",
        "WGDGODXCXFQGDTU6BZR7IHUKBKUKWMMW",
    ),
    # Linked to Brookfield's referral at its meeting (portal/demo_referrals.py).
    DemoAccount(
        "subject@example.org",
        "Robin Sample (demo)",
        None,
        "BRK",
        "FTZDOPDCOFJIQWUOJUYSGLZJK6DRLRIF",
    ),
)


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Authority))


def load() -> None:
    """Create everything in one transaction."""
    authorities = {}
    for spec in AUTHORITIES:
        authority = Authority(
            id=uuid.uuid4(),
            code=spec.code,
            display_name=spec.name,
            meeting_name=spec.meeting_name,
            privacy_notice_url=f"https://www.{spec.code.lower()}.example/lado-privacy-notice",
            minutes_working_days=spec.minutes_working_days,
            contact_email=f"lado-team@{spec.code.lower()}.example",
            contact_phone="01632 960 500",
        )
        db.session.add(authority)
        authorities[spec.code] = authority
    organisations = {}
    for org_spec in ORGANISATIONS:
        organisation = Organisation(
            id=uuid.uuid4(), name=org_spec.name, type=org_spec.type, sector=org_spec.sector
        )
        db.session.add(organisation)
        organisations[org_spec.key] = organisation
        for position, code in enumerate(org_spec.authorities):
            db.session.add(
                OrganisationAuthority(
                    organisation_id=organisation.id,
                    authority_id=authorities[code].id,
                    # The first authority listed looks after the organisation's accounts.
                    manages_accounts=position == 0,
                )
            )
    # One Argon2 hash serves every demo account: they share the published password.
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    now = utcnow()
    users = {}
    for account in ACCOUNTS:
        user = User(
            id=uuid.uuid4(),
            email=account.email,
            full_name=account.full_name,
            password_hash=password_hash,
            password_changed_at=now,
            totp_secret=account.totp_secret,
            mfa_enrolled_at=now,
        )
        if account.role is None:
            pass  # a subject: demo_referrals links them to their case
        elif account.place in authorities:
            user.memberships.append(
                Membership(role=account.role, authority_id=authorities[account.place].id)
            )
        else:
            user.memberships.append(
                Membership(role=account.role, organisation_id=organisations[account.place].id)
            )
        db.session.add(user)
        users[account.email] = user
    db.session.commit()
    from portal import demo_referrals

    demo_referrals.load(users, organisations, authorities)
