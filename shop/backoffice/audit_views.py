"""The audit log in the back office: every staff action, searched and filtered by who, what,
which kind of record and when, a page at a time, and the same selection as a CSV file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import render_template, request
from sqlalchemy import or_, select

from shop.access import Desk, desk_pages
from shop.backoffice import bp
from shop.core.audit import AuditEntry
from shop.core.db import contains
from shop.core.formatting import local_datetime
from shop.core.paging import paginate
from shop.core.periods import days_asked, within
from shop.core.spreadsheet import csv_download
from shop.extensions import db
from shop.forms import clean_text

desk_pages(__name__, Desk.AUDIT)

CSV_COLUMNS = ("when", "who", "address", "action", "object type", "object id", "object", "changes", "note")


@dataclass(frozen=True)
class AuditFilters:
    q: str = ""
    actor: str = ""
    action: str = ""
    object_type: str = ""
    since: date | None = None
    until: date | None = None
    problems: tuple[tuple[str, str], ...] = ()

    def query_args(self) -> dict:
        values = {
            "q": self.q,
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {name: value for name, value in values.items() if value}

    @property
    def any(self) -> bool:
        return bool(self.query_args())


def _filters() -> AuditFilters:
    args = request.args
    days, problems = days_asked(args)
    actor = clean_text(args.get("actor", ""))[:12]
    return AuditFilters(
        q=clean_text(args.get("q", ""))[:80],
        actor=actor if actor.isdigit() or actor == "shop" else "",
        action=clean_text(args.get("action", ""))[:60],
        object_type=clean_text(args.get("object_type", ""))[:40],
        since=days["since"],
        until=days["until"],
        problems=tuple(problems),
    )


def _selection(filters: AuditFilters):
    query = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if filters.q:
        query = query.where(
            or_(
                contains(AuditEntry.object_label, filters.q),
                contains(AuditEntry.object_id, filters.q),
                contains(AuditEntry.actor_email, filters.q),
                contains(AuditEntry.note, filters.q),
            )
        )
    if filters.actor == "shop":
        query = query.where(AuditEntry.actor_id.is_(None))
    elif filters.actor:
        query = query.where(AuditEntry.actor_id == int(filters.actor))
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.object_type:
        query = query.where(AuditEntry.object_type == filters.object_type)
    return query.where(*within(AuditEntry.created_at, filters.since, filters.until))


def _choices() -> dict:
    actors = db.session.execute(
        select(AuditEntry.actor_id, AuditEntry.actor_email)
        .where(AuditEntry.actor_id.is_not(None))
        .group_by(AuditEntry.actor_id, AuditEntry.actor_email)
        .order_by(AuditEntry.actor_email)
    ).all()
    return {
        "actors": actors,
        "actions": db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all(),
        "object_types": db.session.scalars(
            select(AuditEntry.object_type)
            .where(AuditEntry.object_type != "")
            .distinct()
            .order_by(AuditEntry.object_type)
        ).all(),
    }


@bp.route("/audit")
def audit_log():
    filters = _filters()
    page = paginate(_selection(filters))
    return render_template("staff/audit.html", page=page, filters=filters, **_choices()), (
        422 if filters.problems else 200
    )


@bp.route("/audit.csv")
def audit_csv():
    entries = db.session.scalars(_selection(_filters()).execution_options(yield_per=500))
    return csv_download("audit-log", CSV_COLUMNS, (_csv_row(entry) for entry in entries))


def _csv_row(entry: AuditEntry) -> list:
    changes = "; ".join(f"{field}: {before} → {after}" for field, before, after in entry.change_lines())
    return [
        local_datetime(entry.created_at, "%Y-%m-%d %H:%M:%S"),
        entry.actor_email or "the shop",
        entry.ip_address,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.object_label,
        changes,
        entry.note,
    ]
