"""A partner organisation: a school, a police force, a fostering agency...

Organisations belong to the deployment, not to one authority: a police force or an
academy trust works with several authorities, each linking it to its own service. One of
them (the one that added it) manages its accounts.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import (
    Base,
    CreatedAt,
    Name,
    UUIDPrimaryKey,
    enum_column,
    unique_where,
    utcnow,
)
from portal.vocabulary import OrganisationType, SectorGroup

if TYPE_CHECKING:
    from portal.models.authority import Authority


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[UUIDPrimaryKey]
    name: Mapped[Name] = mapped_column(unique=True)
    type: Mapped[OrganisationType] = enum_column(OrganisationType)
    sector: Mapped[SectorGroup] = enum_column(SectorGroup)
    created_at: Mapped[CreatedAt]

    authorities: Mapped[list[Authority]] = relationship(
        secondary="organisation_authorities",
        back_populates="organisations",
        order_by="Authority.display_name",
        viewonly=True,
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id}>"


class OrganisationAuthority(Base):
    """An organisation works with an authority (refers to it, answers its requests)."""

    __tablename__ = "organisation_authorities"
    __table_args__ = (
        # At most one authority looks after an organisation's accounts.
        unique_where(
            "uq_organisation_authorities_manager", "organisation_id", where="manages_accounts"
        ),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    authority_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("authorities.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The authority whose administrators look after the organisation's accounts and
    # details: the one that added it. Others that work with it see its name, not its
    # people, so linking an organisation never hands one council another's partner.
    manages_accounts: Mapped[bool] = mapped_column(default=False, server_default=false())
