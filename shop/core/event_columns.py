"""The columns every event row shares: who (the actor, None for the shop itself), what (the
action), the status before and after, a note, and when. Event rows are written with every
change and never edited."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from shop.core.db import UTCDateTime

if TYPE_CHECKING:
    from shop.accounts.models import User


class EventColumns:
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @declared_attr
    def actor(cls) -> Mapped[User | None]:  # noqa: N805 - SQLAlchemy's declared_attr takes the class
        return relationship("User")
