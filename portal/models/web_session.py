"""Server-side sessions: the browser holds only a random token, the data lives here.

Keeping sessions in the database means sign-out really ends a session, a deactivated
user is signed out everywhere at once, and any gunicorn worker can serve any request.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base


class WebSession(Base):
    __tablename__ = "web_sessions"

    # SHA-256 of the cookie's token: a copy of this table cannot be replayed as cookies.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
