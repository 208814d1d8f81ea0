"""People who sign in, what they may do where (memberships), and their MFA material."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.crypto.blind_index import BlindIndex, normalise_email
from portal.crypto.fields import TEXT, OwnerSpec, encrypted
from portal.models.base import Base, CreatedAt, UUIDPrimaryKey, enum_column, unique_where
from portal.models.subject_link import SubjectLink
from portal.vocabulary import LabelledEnum, labels


class Role(LabelledEnum):
    # Roles in an authority's LADO service
    LADO = "lado"
    LADO_MANAGER = "lado_manager"
    BUSINESS_SUPPORT = "business_support"
    AUTHORITY_ADMIN = "authority_admin"
    # Roles in a partner organisation
    PARTNER_MEMBER = "partner_member"
    ORGANISATION_ADMIN = "organisation_admin"

    @property
    def in_authority(self) -> bool:
        return self in AUTHORITY_ROLES


labels(
    Role,
    {
        "lado": "LADO",
        "lado_manager": "LADO manager",
        "business_support": "Business support",
        "authority_admin": "Authority administrator",
        "partner_member": "Partner member",
        "organisation_admin": "Organisation administrator",
    },
)
AUTHORITY_ROLES = frozenset(
    {Role.LADO, Role.LADO_MANAGER, Role.BUSINESS_SUPPORT, Role.AUTHORITY_ADMIN}
)
ORGANISATION_ROLES = frozenset({Role.PARTNER_MEMBER, Role.ORGANISATION_ADMIN})


class User(Base):
    """An account. What it may see comes only from its memberships.

    A subject without an employer (a later issue) is a User with no membership and a
    link to their own case instead; nothing here assumes every user has a membership.
    """

    __tablename__ = "users"
    __encryption_owner__ = OwnerSpec.deployment()
    # Found at sign-in by a blind index of the address, never by decrypting every row.
    __blind_indexes__ = (BlindIndex("user.email", ("email",), (normalise_email,), unique=True),)

    id: Mapped[UUIDPrimaryKey]
    email = encrypted(TEXT, max_length=320, nullable=False)  # stored lower-cased
    full_name = encrypted(TEXT, max_length=200, nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_changed_at: Mapped[datetime | None]
    totp_secret = encrypted(TEXT, max_length=64)
    # The last TOTP time-step accepted: a code is good once, never twice.
    totp_last_counter: Mapped[int | None]
    mfa_enrolled_at: Mapped[datetime | None]
    created_at: Mapped[CreatedAt]
    last_signed_in_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    # A subject's cases (portal/models/subject_link.py): read only for someone with no
    # active membership, so staff and partners never load them.
    subject_links: Mapped[list[SubjectLink]] = relationship(
        cascade="all, delete-orphan", lazy="select"
    )

    # Flask-Login's protocol, written out so the model needs no mixin.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active_memberships) or self.is_subject

    @property
    def is_subject(self) -> bool:
        """Someone who signs in only to read the updates published to them as a subject."""
        return not self.active_memberships and any(link.is_active for link in self.subject_links)

    def get_id(self) -> str:
        return str(self.id)

    @property
    def mfa_enrolled(self) -> bool:
        return self.totp_secret is not None and self.mfa_enrolled_at is not None

    @property
    def active_memberships(self) -> list[Membership]:
        return [membership for membership in self.memberships if membership.is_active]

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class Membership(Base):
    """A user holds a role in exactly one authority or one organisation."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(
            "(authority_id IS NULL) <> (organisation_id IS NULL)", name="exactly_one_scope"
        ),
        # NULLs never collide in a unique constraint, so each scope gets a partial index.
        unique_where(
            "uq_memberships_authority_role",
            "authority_id",
            "user_id",
            "role",
            where="authority_id IS NOT NULL",
        ),
        unique_where(
            "uq_memberships_organisation_role",
            "organisation_id",
            "user_id",
            "role",
            where="organisation_id IS NOT NULL",
        ),
        Index("ix_memberships_user_id", "user_id"),
    )

    id: Mapped[UUIDPrimaryKey]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    authority_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("authorities.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    role: Mapped[Role] = enum_column(Role)
    created_at: Mapped[CreatedAt]
    deactivated_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="memberships")

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None

    @property
    def scope_id(self) -> uuid.UUID:
        scope = self.authority_id or self.organisation_id
        if scope is None:  # the exactly_one_scope constraint rules this out
            raise ValueError("a membership without an authority or organisation")
        return scope


class RecoveryCode(Base):
    """One of ten one-time codes for signing in without the authenticator app.

    Codes are random (50 bits), so a SHA-256 digest is enough; a slow hash would make
    checking ten of them per attempt a denial-of-service lever.
    """

    __tablename__ = "recovery_codes"

    id: Mapped[UUIDPrimaryKey]
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[CreatedAt]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="recovery_codes")
