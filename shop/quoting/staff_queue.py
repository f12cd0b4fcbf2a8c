"""The quotes desk's lists and its share of the dashboard: requests to answer, changes the
clinicians asked for, quotes about to expire, and every quote by state."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template, request, url_for
from sqlalchemy import and_, case, func, or_, select

from shop import clock
from shop.access import Desk, desk_pages
from shop.accounts.lookup import records_found
from shop.backoffice import bp
from shop.backoffice.dashboard import QueueCount, queue
from shop.core.paging import paginate
from shop.extensions import db
from shop.forms import clean_text
from shop.quoting.models import Quote, QuoteStatus, QuoteVersion

desk_pages(__name__, Desk.QUOTES)

# A sent quote is "expiring" when its last day ends within this long.
EXPIRING_WITHIN = timedelta(days=2)

QUEUES = {
    "open": ("Needs the desk", [QuoteStatus.REQUESTED, QuoteStatus.CHANGES_REQUESTED, QuoteStatus.DRAFT]),
    "requested": ("Requests to answer", [QuoteStatus.REQUESTED]),
    "changes_requested": ("Changes requested", [QuoteStatus.CHANGES_REQUESTED]),
    "sent": ("Sent", [QuoteStatus.SENT]),
    "expiring": ("Expiring in two days", [QuoteStatus.SENT]),
    "accepted": ("Accepted", [QuoteStatus.ACCEPTED]),
    "closed": ("Declined or expired", [QuoteStatus.DECLINED, QuoteStatus.EXPIRED]),
    "all": ("All", None),
}


@bp.route("/quotes")
def quotes_list():
    shown = request.args.get("queue", "open")
    shown = shown if shown in QUEUES else "open"
    q = clean_text(request.args.get("q", ""))[:80]
    if q:
        shown = "all"  # a number is looked for in every queue
    oldest_first = shown in ("open", "requested", "changes_requested", "expiring")
    query = select(Quote).order_by(Quote.updated_at.asc() if oldest_first else Quote.updated_at.desc(), Quote.id)
    query = _in_queue(query, shown, clock.now())
    if q:
        query = query.where(found_by(q))
    page = paginate(query)
    return render_template("staff/quotes/list.html", page=page, shown=shown, queues=QUEUES, q=q, now=clock.now())


def found_by(q: str):
    """Quotes by number (with or without "Q-"), practice name, or the contact's name or email,
    each through its index."""
    return records_found(q, prefix="Q", number=Quote.number, practice=Quote.practice_id, person=Quote.contact_id)


def _latest_end():
    """When the latest sent version of the quote runs out."""
    return (
        select(QuoteVersion.expires_at)
        .where(QuoteVersion.quote_id == Quote.id, QuoteVersion.sent_at.is_not(None))
        .order_by(QuoteVersion.number.desc())
        .limit(1)
        .correlate(Quote)
        .scalar_subquery()
    )


def _in_queue(query, queue: str, now):
    """A sent quote whose latest version ran out of time belongs with the expired ones even
    before `expire-quotes` has marked it (the badge already says Expired)."""
    statuses = QUEUES[queue][1]
    if statuses is None:
        return query
    latest_end = _latest_end()
    if queue == "sent":
        return query.where(Quote.status == QuoteStatus.SENT, latest_end > now)
    if queue == "expiring":
        return query.where(Quote.status == QuoteStatus.SENT, latest_end > now, latest_end <= now + EXPIRING_WITHIN)
    if queue == "closed":
        return query.where(or_(Quote.status.in_(statuses), and_(Quote.status == QuoteStatus.SENT, latest_end <= now)))
    return query.where(Quote.status.in_(statuses))


@queue(position=30, desk=Desk.QUOTES)
def _quotes_queue() -> list[QueueCount]:
    now = clock.now()
    latest_end = _latest_end()
    expiring = and_(Quote.status == QuoteStatus.SENT, latest_end > now, latest_end <= now + EXPIRING_WITHIN)
    requested, changes, ending = db.session.execute(
        select(
            func.coalesce(func.sum(case((Quote.status == QuoteStatus.REQUESTED, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Quote.status == QuoteStatus.CHANGES_REQUESTED, 1), else_=0)), 0),
            func.coalesce(func.sum(case((expiring, 1), else_=0)), 0),
        ).where(Quote.status.in_([QuoteStatus.REQUESTED, QuoteStatus.CHANGES_REQUESTED, QuoteStatus.SENT]))
    ).one()
    return [
        QueueCount(
            requested,
            "quote request to answer",
            "quote requests to answer",
            url_for("staff.quotes_list", queue="requested"),
        ),
        QueueCount(
            changes,
            "change requested by a clinician",
            "changes requested by clinicians",
            url_for("staff.quotes_list", queue="changes_requested"),
        ),
        QueueCount(
            ending,
            "quote expiring in the next two days",
            "quotes expiring in the next two days",
            url_for("staff.quotes_list", queue="expiring"),
        ),
    ]
