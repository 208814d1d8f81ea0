"""An authority: one council's LADO service, the tenant that owns cases."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import URL, Base, CreatedAt, Name, UUIDPrimaryKey, enum_column
from portal.vocabulary import MeetingName

if TYPE_CHECKING:
    from portal.models.organisation import Organisation

MINUTES_TIMESCALES = (10, 15)


class Authority(Base):
    __tablename__ = "authorities"
    __table_args__ = (
        CheckConstraint("minutes_working_days IN (10, 15)", name="minutes_working_days"),
    )

    id: Mapped[UUIDPrimaryKey]
    # Short code for case references, e.g. BRK in BRK-2026-00042.
    code: Mapped[str] = mapped_column(String(8), unique=True)
    display_name: Mapped[Name]
    meeting_name: Mapped[MeetingName] = enum_column(MeetingName, default=MeetingName.ASV)
    privacy_notice_url: Mapped[URL]
    # Minutes go out within 10 working days nationally; some authorities allow 15.
    minutes_working_days: Mapped[int] = mapped_column(default=10)
    # How the LADO's team is reached: shown to subjects on their pages.
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[CreatedAt]

    organisations: Mapped[list[Organisation]] = relationship(
        secondary="organisation_authorities",
        back_populates="authorities",
        order_by="Organisation.name",
        viewonly=True,
    )

    def __repr__(self) -> str:
        return f"<Authority {self.code}>"
