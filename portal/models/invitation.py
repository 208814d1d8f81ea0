"""An invitation to join an authority or organisation in a role, by one-time link."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.crypto.fields import TEXT, OwnerSpec, encrypted
from portal.models.base import Base, CreatedAt, UUIDPrimaryKey
from portal.models.user import Role, User


class Invitation(Base):
    __tablename__ = "invitations"
    __encryption_owner__ = OwnerSpec.deployment()
    __table_args__ = (
        CheckConstraint(
            "(authority_id IS NULL) <> (organisation_id IS NULL)", name="exactly_one_scope"
        ),
    )

    id: Mapped[UUIDPrimaryKey]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email = encrypted(TEXT, max_length=320, nullable=False)
    full_name = encrypted(TEXT, max_length=200, nullable=False)
    # Role values, e.g. ["lado", "authority_admin"]: a user may hold several in one scope.
    role_values: Mapped[list[str]] = mapped_column(JSON)
    authority_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("authorities.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    # An invitation to a subject: no roles, but a link to this case (the authority is
    # the case's, for its audit trail).
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    invited_by: Mapped[User | None] = relationship()

    @property
    def roles(self) -> list[Role]:
        return [Role(value) for value in self.role_values]

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class PasswordReset(Base):
    __tablename__ = "password_resets"

    id: Mapped[UUIDPrimaryKey]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
