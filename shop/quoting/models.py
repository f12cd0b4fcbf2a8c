"""Quotes: a practice asks for prices, the quotes desk answers with versions (v1, v2…) that are
immutable once sent, both sides comment, and an accepted version becomes an order at exactly
its prices. The status flow lives in one table here; every change writes an event row."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.core.db import UTCDateTime, enum_column
from shop.core.enums import LabelledEnum
from shop.core.events import EventColumns
from shop.core.limits import ITEM_NAME_LENGTH, SKU_LENGTH
from shop.core.pricing import percent
from shop.errors import InvalidTransition, QuoteExpired, ShopError
from shop.extensions import db
from shop.ordering.models import Order
from shop.practices.models import Practice


class QuoteStatus(LabelledEnum):
    REQUESTED = "requested", "Requested"
    DRAFT = "draft", "Being prepared"
    SENT = "sent", "Sent"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"


Q = QuoteStatus
# Which status may follow which. Sending a revision keeps a sent quote sent (the new version
# supersedes the old); a quote that expired or had changes requested is sent again as a new
# version. The clinician decides on a sent quote only: one with changes requested waits for the
# revision. Declined is final; accepted is too, unless the order it placed lapses unpaid (then
# the quote is open again, or expired if its validity ended meanwhile).
QUOTE_TRANSITIONS: dict[QuoteStatus, frozenset[QuoteStatus]] = {
    Q.REQUESTED: frozenset({Q.DRAFT}),
    Q.DRAFT: frozenset({Q.SENT}),
    Q.SENT: frozenset({Q.SENT, Q.ACCEPTED, Q.DECLINED, Q.CHANGES_REQUESTED, Q.EXPIRED}),
    Q.CHANGES_REQUESTED: frozenset({Q.SENT}),
    Q.EXPIRED: frozenset({Q.SENT}),
    Q.ACCEPTED: frozenset({Q.SENT, Q.EXPIRED}),
    Q.DECLINED: frozenset(),
}


# Closed to the desk: nothing more can be prepared or changed.
CLOSED = frozenset({Q.ACCEPTED, Q.DECLINED})


class QuoteAction(StrEnum):
    """What can be done with a quote: the clinician's decisions, and the desk's work on it."""

    ACCEPT = "accept"
    REQUEST_CHANGES = "request_changes"
    DECLINE = "decline"
    PREPARE = "prepare"  # open a draft: v1 from the request, or a revision of the last version
    EDIT = "edit"  # change, price and send the open draft


DECISION_TARGETS = {
    QuoteAction.ACCEPT: Q.ACCEPTED,
    QuoteAction.REQUEST_CHANGES: Q.CHANGES_REQUESTED,
    QuoteAction.DECLINE: Q.DECLINED,
}


class Quote(db.Model):
    __tablename__ = "quotes"
    audit_type = "quote"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    # The clinician who asked, or for whom staff started the quote (phone or fax).
    contact_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The contact's licence as it was when the quote was asked for or started by the desk.
    profession: Mapped[str] = mapped_column(String(32), default="", server_default="")
    licence_number: Mapped[str] = mapped_column(String(40), default="", server_default="")
    licence_region: Mapped[str] = mapped_column(String(80), default="", server_default="")
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[QuoteStatus] = mapped_column(enum_column(QuoteStatus, "quote_status"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    target_date: Mapped[date | None] = mapped_column(Date)
    request_message: Mapped[str] = mapped_column(Text, default="")
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    accepted_version_id: Mapped[int | None] = mapped_column(ForeignKey("quote_versions.id", use_alter=True))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    # The reminder two days before expiry is sent once per version.
    reminded_version_id: Mapped[int | None] = mapped_column(ForeignKey("quote_versions.id", use_alter=True))

    practice: Mapped[Practice] = relationship()
    order: Mapped[Order | None] = relationship()
    contact: Mapped[User] = relationship(foreign_keys=[contact_id])
    started_by: Mapped[User] = relationship(foreign_keys=[started_by_id])
    request_lines: Mapped[list[QuoteRequestLine]] = relationship(
        back_populates="quote", order_by="QuoteRequestLine.id", cascade="all, delete-orphan"
    )
    versions: Mapped[list[QuoteVersion]] = relationship(
        back_populates="quote", order_by="QuoteVersion.number", foreign_keys="QuoteVersion.quote_id"
    )
    comments: Mapped[list[QuoteComment]] = relationship(back_populates="quote", order_by="QuoteComment.id")
    events: Mapped[list[QuoteEvent]] = relationship(back_populates="quote", order_by="QuoteEvent.id")

    def can_become(self, target: QuoteStatus) -> bool:
        return target in QUOTE_TRANSITIONS[self.status]

    @property
    def described_as(self) -> str:
        return f"Quote {self.number}"

    def new_event(self, **columns) -> QuoteEvent:
        return QuoteEvent(quote_id=self.id, **columns)

    def available_actions(self, now: datetime) -> frozenset[QuoteAction]:
        """What can be done now; the clinician's and the desk's pages offer exactly these."""
        return frozenset(action for action in QuoteAction if self.refusal(action, now) is None)

    def require(self, action: QuoteAction, now: datetime) -> None:
        """Raise the refusal of `action`, if there is one (services guard with this)."""
        refused = self.refusal(action, now)
        if refused is not None:
            raise refused

    def refusal(self, action: QuoteAction, now: datetime) -> ShopError | None:
        """Why `action` cannot be taken now (the error to raise), or None when it can."""
        label = self.status.label.lower()
        if action in (QuoteAction.PREPARE, QuoteAction.EDIT):
            if self.is_closed:
                return InvalidTransition(f"Quote {self.number} is {label}; it cannot be revised or changed.")
            if action == QuoteAction.EDIT and self.draft is None:
                return InvalidTransition("There is no draft to edit; start a revision first.")
            if action == QuoteAction.PREPARE and self.draft is not None:
                return InvalidTransition(f"A draft of quote {self.number} is already open.")
            return None
        target = DECISION_TARGETS[action]
        if action == QuoteAction.ACCEPT and self.status == QuoteStatus.ACCEPTED:
            return InvalidTransition(f"Quote {self.number} is already accepted.")
        if self.is_expired(now) and action != QuoteAction.DECLINE:
            return QuoteExpired(f"Quote {self.number} expired; ask the quotes desk for a new version.")
        if self.status != QuoteStatus.SENT or self.is_expired(now) or not self.can_become(target):
            if action == QuoteAction.ACCEPT:
                return InvalidTransition(f"Quote {self.number} is {label} and cannot be accepted.")
            shown = self.status_at(now).label.lower()
            return InvalidTransition(
                f"Quote {self.number} is {shown}, so it cannot become “{target.label.lower()}” now."
            )
        return None

    @property
    def is_closed(self) -> bool:
        """Accepted or declined: nothing more is prepared or discussed."""
        return self.status in CLOSED

    @property
    def latest_sent(self) -> QuoteVersion | None:
        sent = [v for v in self.versions if v.sent_at is not None]
        return sent[-1] if sent else None

    @property
    def draft(self) -> QuoteVersion | None:
        """The version staff are preparing, not yet sent (at most one)."""
        return next((v for v in self.versions if v.sent_at is None), None)

    def is_expired(self, now: datetime) -> bool:
        """A sent quote past its validity can no longer be accepted, cron or no cron."""
        version = self.latest_sent
        return self.status == QuoteStatus.EXPIRED or (
            self.status == QuoteStatus.SENT and version is not None and version.expires_at <= now
        )

    def status_at(self, now: datetime) -> QuoteStatus:
        return QuoteStatus.EXPIRED if self.is_expired(now) else self.status


class QuoteRequestLine(db.Model):
    """What the clinician asked for: a catalogue SKU or free text for anything else."""

    __tablename__ = "quote_request_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id"))
    sku: Mapped[str] = mapped_column(String(SKU_LENGTH), default="")
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int]

    quote: Mapped[Quote] = relationship(back_populates="request_lines")


class QuoteVersion(db.Model):
    """One issue of the quote. Editable while it is a draft; never changed once sent."""

    __tablename__ = "quote_versions"
    __table_args__ = (UniqueConstraint("quote_id", "number", name="uq_quote_versions_quote_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), index=True)
    number: Mapped[int]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    valid_until: Mapped[date] = mapped_column(Date)
    # The end of valid_until in the shop's time zone, as a UTC moment (set when sent).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    shipping_cents: Mapped[int] = mapped_column(default=0)
    tax_rate_bps: Mapped[int]
    subtotal_cents: Mapped[int] = mapped_column(default=0)
    tax_cents: Mapped[int] = mapped_column(default=0)
    total_cents: Mapped[int] = mapped_column(default=0)
    terms: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")

    quote: Mapped[Quote] = relationship(back_populates="versions", foreign_keys=[quote_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])
    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="version", order_by="QuoteLine.position, QuoteLine.id", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        return f"v{self.number}"

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None


class QuoteLine(db.Model):
    """A priced line of a version: a catalogue variant, or a custom item typed by staff."""

    __tablename__ = "quote_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("quote_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id"))
    sku: Mapped[str] = mapped_column(String(SKU_LENGTH), default="")
    product_name: Mapped[str] = mapped_column(String(ITEM_NAME_LENGTH))
    description: Mapped[str] = mapped_column(String(300), default="")
    quantity: Mapped[int]
    list_price_cents: Mapped[int]
    discount_bps: Mapped[int] = mapped_column(default=0)
    unit_price_cents: Mapped[int]
    line_total_cents: Mapped[int]

    version: Mapped[QuoteVersion] = relationship(back_populates="lines")

    @property
    def discount_percent(self) -> str:
        return percent(self.discount_bps)


class QuoteComment(db.Model):
    __tablename__ = "quote_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    quote: Mapped[Quote] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()


class QuoteEvent(EventColumns, db.Model):
    __tablename__ = "quote_events"

    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), index=True)

    quote: Mapped[Quote] = relationship(back_populates="events")


QUOTE_EVENT_LABELS = {
    "requested": "Quote requested",
    "started": "Quote started by the quotes desk",
    "drafted": "Quotes desk started preparing it",
    "revision_started": "Quotes desk started a revision",
    "sent": "Quote sent",
    "commented": "Comment",
    "changes_requested": "Changes requested",
    "accepted": "Accepted",
    "reopened": "Open again: its order was not paid",
    "declined": "Declined",
    "expired": "Expired",
    "reminded": "Expiry reminder sent",
}
