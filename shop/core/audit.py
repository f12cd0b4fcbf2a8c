"""The audit log: one append-only record of every staff action.

Services call `record(actor, action, obj, changes)` in the same unit of work as the change it
records, so the entry and the change are committed together or not at all; views never write
it. Each entry keeps who (and their email as it was then), when, from which address, which
object (its type, id and the words people know it by, such as "Order ORD-100001"), and what
changed, field by field, as [before, after].

Nothing in the shop can change or remove an entry: the session refuses to flush an edited or
deleted entry and refuses UPDATE and DELETE statements on the table, and on PostgreSQL a
trigger refuses them as well (migration 32be0526f530).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, ForeignKey, String, Text, and_, event, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from shop import clock
from shop.core.db import UTCDateTime
from shop.extensions import db

APPEND_ONLY = "The audit log is append-only: its entries are never changed or removed."


class AuditIsAppendOnly(RuntimeError):
    """Something tried to change or remove an audit entry."""


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # None when nobody was signed in (a failed login) or the shop acted by itself.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="", index=True)
    object_id: Mapped[str] = mapped_column(String(40), default="")
    object_label: Mapped[str] = mapped_column(String(160), default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")

    actor = relationship("User")

    def change_lines(self) -> list[tuple[str, Any, Any]]:
        return [(field, before, after) for field, (before, after) in sorted((self.changes or {}).items())]


def record(
    actor,
    action: str,
    obj=None,
    changes: dict[str, tuple[Any, Any]] | None = None,
    note: str = "",
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    label: str | None = None,
) -> AuditEntry:
    """Add an entry to the caller's unit of work: `actor` (a user or None) did `action`
    ("order.shipped", "practice.terms_changed"...) to `obj` (any record with an `id`; its kind,
    id and label, see `label_of`, are kept unless given), changing `changes` {field: (before, after)}
    (fields that did not change are left out)."""
    entry = AuditEntry(
        created_at=clock.now(),
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", "") or "",
        ip_address=_client_address(),
        action=action[:60],
        object_type=(object_type or _kind_of(obj))[:40],
        object_id=str(object_id if object_id is not None else getattr(obj, "id", "") or "")[:40],
        object_label=(label if label is not None else label_of(obj))[:160],
        changes={field: [_plain(b), _plain(a)] for field, (b, a) in (changes or {}).items() if b != a},
        note=note or "",
    )
    db.session.add(entry)
    return entry


def history(*records, limit: int = 100) -> list[AuditEntry]:
    """The newest `limit` entries about any of `records` (a product and its variants...)."""
    conditions = [
        and_(AuditEntry.object_type == _kind_of(r), AuditEntry.object_id == str(r.id)) for r in records if r is not None
    ]
    if not conditions:
        return []
    query = select(AuditEntry).where(or_(*conditions)).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def label_of(obj) -> str:
    """The words people know a record by: its `audit_label`, else its `described_as`
    ("Order ORD-100001"), else nothing."""
    if obj is None:
        return ""
    return getattr(obj, "audit_label", None) or getattr(obj, "described_as", None) or ""


def _kind_of(obj) -> str:
    """The kind of record as the log names it: its `audit_type` ("order", "application"...),
    else its class name in lower case."""
    if obj is None:
        return ""
    return getattr(obj, "audit_type", None) or type(obj).__name__.lower()


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields whose value differs between two snapshots, as {field: (before, after)}."""
    return {field: (before.get(field), after.get(field)) for field in after if before.get(field) != after.get(field)}


def version(snapshot: dict[str, Any]) -> str:
    """A short fingerprint of a record's snapshot: a form carries the one it was drawn from, so a
    save can tell that someone else changed the record meanwhile."""
    text = json.dumps({field: _plain(value) for field, value in snapshot.items()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _plain(value):
    """A value as JSON keeps it (enums by value, dates as ISO text, money as text)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _client_address() -> str:
    return (request.remote_addr or "")[:45] if has_request_context() else ""


# --- append-only ------------------------------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _refuse_edits(session, _context, _instances) -> None:
    if any(isinstance(row, AuditEntry) for row in (*session.dirty, *session.deleted)):
        raise AuditIsAppendOnly(APPEND_ONLY)


@event.listens_for(Session, "do_orm_execute")
def _refuse_statements(state) -> None:
    if (state.is_update or state.is_delete) and _targets_audit_log(state.statement):
        raise AuditIsAppendOnly(APPEND_ONLY)


def _targets_audit_log(statement) -> bool:
    table = getattr(statement, "table", None)
    return getattr(table, "name", None) == AuditEntry.__tablename__
