"""Event rows and status changes, for every record that has a status table and an event trail
(licence applications, orders, quotes).

Every event row has the same columns: who (the actor, None for the shop itself), what (the
action), the status before and after, a note, and when; rows are written with every change and
never edited. A status change checks the table, is made only if nobody made another one first
(a conditional UPDATE, so two clicks at the same moment cannot both win), and writes its row.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import ForeignKey, String, Text, update
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from shop import clock
from shop.core import audit
from shop.core.db import UTCDateTime
from shop.errors import InvalidTransition
from shop.extensions import db

if TYPE_CHECKING:  # only for the annotations: the actor is whoever acted, of any role
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


class Tracked(Protocol):
    """A record with a status table and an event trail: it can tell whether a status may follow
    its own, make an event row about itself, and name itself in messages ("Order ORD-100001")
    and in the audit log ("order")."""

    id: int
    status: StrEnum
    described_as: str
    audit_type: str  # how the audit log names its kind: "order", "quote", "application"

    def can_become(self, target) -> bool: ...

    def new_event(self, **columns) -> EventColumns: ...


def record(
    row: Tracked,
    actor: User | None,
    action: str,
    from_status: str | None,
    to_status: str,
    note: str = "",
    *,
    at: datetime | None = None,
    changes: dict | None = None,
) -> None:
    """Add an event row about `row` (in the caller's transaction), as of now or `at`; a staff
    member's is written to the audit log beside it, with the status and any other `changes`
    ({field: (before, after)}), so the record's history and the log agree."""
    db.session.add(
        row.new_event(
            actor_id=actor.id if actor else None,
            action=action,
            from_status=from_status,
            to_status=to_status,
            note=note,
            created_at=at or clock.now(),
        )
    )
    if actor is not None and actor.is_staff:
        audit.record(
            actor, f"{row.audit_type}.{action}", row, {"status": (from_status, to_status), **(changes or {})}, note
        )


def record_note(row: Tracked, actor: User | None, action: str, text: str, changes: dict | None = None) -> None:
    """An event that does not change the status (a payment attempt, a reminder, a correction
    with its `changes`...)."""
    record(row, actor, action, row.status.value, row.status.value, text, changes=changes)


def advance(row: Tracked, target: StrEnum, actor: User | None, action: str, note: str = "", **values) -> None:
    """Move `row` to `target` and record it, in the caller's unit of work; raises
    InvalidTransition when the table does not allow it or someone else changed the row first."""
    described_as = row.described_as
    current = row.status
    if not row.can_become(target):
        raise InvalidTransition(
            f"{described_as} is {current.label.lower()}, so it cannot become “{target.label.lower()}” now."
        )
    model = type(row)
    result = db.session.execute(
        update(model)
        .where(model.id == row.id, model.status == current)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidTransition(
            f"{described_as} was changed by someone else a moment ago. Reload it to see where it stands."
        )
    record(row, actor, action, current.value, target.value, note)
    db.session.expire(row)
