"""Licence verification: a clinician's application, the licence documents uploaded for it, the
event trail of every decision, and the reminders sent as the licence runs out. The status flow
lives in one table here."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import Profession, User
from shop.core.db import UTCDateTime, enum_column
from shop.core.enums import LabelledEnum
from shop.core.events import EventColumns
from shop.extensions import db


class ApplicationStatus(LabelledEnum):
    PENDING = "pending", "Under review"
    NEEDS_INFO = "needs_info", "More information needed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


# A clinician may send a renewed licence from this many days before the verified one expires;
# until it lapses, the verified licence keeps the account open while the desk checks the new one.
RENEWAL_WINDOW_DAYS = 30

# Which status may follow which. A rejection is final; an approved application returns to
# review only when the clinician sends a renewed licence after the one on file expired (one
# sent before that waits beside the approved licence: `renewal_expiry`).
APPLICATION_TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    ApplicationStatus.PENDING: frozenset(
        {ApplicationStatus.APPROVED, ApplicationStatus.REJECTED, ApplicationStatus.NEEDS_INFO}
    ),
    ApplicationStatus.NEEDS_INFO: frozenset(
        {ApplicationStatus.PENDING, ApplicationStatus.APPROVED, ApplicationStatus.REJECTED}
    ),
    ApplicationStatus.APPROVED: frozenset({ApplicationStatus.PENDING}),
    ApplicationStatus.REJECTED: frozenset(),
}


class ApplicationAction(StrEnum):
    """The verification desk's decisions, and the clinician sending a new document."""

    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_INFO = "request_info"
    SEND_DOCUMENT = "send_document"


ACTION_TARGETS = {
    ApplicationAction.APPROVE: ApplicationStatus.APPROVED,
    ApplicationAction.REJECT: ApplicationStatus.REJECTED,
    ApplicationAction.REQUEST_INFO: ApplicationStatus.NEEDS_INFO,
    ApplicationAction.SEND_DOCUMENT: ApplicationStatus.PENDING,
}
DESK_DECISIONS = frozenset({ApplicationAction.APPROVE, ApplicationAction.REJECT, ApplicationAction.REQUEST_INFO})


class LicenceApplication(db.Model):
    __tablename__ = "licence_applications"
    audit_type = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    profession: Mapped[Profession] = mapped_column(enum_column(Profession, "profession"))
    licence_number: Mapped[str] = mapped_column(String(40))
    licence_region: Mapped[str] = mapped_column(String(80))
    licence_expiry: Mapped[date] = mapped_column(Date)
    status: Mapped[ApplicationStatus] = mapped_column(enum_column(ApplicationStatus, "application_status"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # When the application last entered the review queue; the queue is ordered by it.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    # A renewed licence sent before the approved one expired, waiting for the desk: its expiry
    # date (the document is the latest one) and when it came. The approved licence stays the
    # one on file, and on orders, until the desk approves the renewal.
    renewal_expiry: Mapped[date | None] = mapped_column(Date)
    renewal_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    applicant: Mapped[User] = relationship(back_populates="application", foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    documents: Mapped[list[LicenceDocument]] = relationship(back_populates="application", order_by="LicenceDocument.id")
    events: Mapped[list[ApplicationEvent]] = relationship(back_populates="application", order_by="ApplicationEvent.id")

    def licence_expired(self, today: date) -> bool:
        return self.licence_expiry < today

    def lapsed(self, today: date) -> bool:
        """Approved, but the licence on file has expired since: a renewed one is needed."""
        return self.status == ApplicationStatus.APPROVED and self.licence_expired(today)

    def ever_approved(self) -> bool:
        """Approved now, or once and under review since (a renewal); a rejection ends it."""
        if self.status == ApplicationStatus.REJECTED:
            return False
        return self.status == ApplicationStatus.APPROVED or any(
            event.to_status == ApplicationStatus.APPROVED.value for event in self.events
        )

    def grants_access(self, today: date) -> bool:
        return self.status == ApplicationStatus.APPROVED and not self.licence_expired(today)

    def can_become(self, target: ApplicationStatus) -> bool:
        return target in APPLICATION_TRANSITIONS[self.status]

    @property
    def renewal_waiting(self) -> bool:
        """A renewed licence, sent while the approved one was current, waits for the desk."""
        return self.status == ApplicationStatus.APPROVED and self.renewal_expiry is not None

    def renewal_sent_back(self) -> ApplicationEvent | None:
        """The desk's request for another renewed licence, while it is the latest word on one."""
        for event in reversed(self.events):
            if event.action in ("renewal_submitted", "renewal_approved", "renewal_info_requested"):
                return event if event.action == "renewal_info_requested" else None
        return None

    def renewal_opens_on(self) -> date:
        """The first day a renewed licence can be sent for the approved one."""
        return self.licence_expiry - timedelta(days=RENEWAL_WINDOW_DAYS)

    described_as = "This application"

    @property
    def audit_label(self) -> str:
        return f"Application #{self.id} ({self.applicant.full_name})"

    def new_event(self, **columns) -> ApplicationEvent:
        return ApplicationEvent(application_id=self.id, **columns)

    def available_actions(self, today: date) -> frozenset[ApplicationAction]:
        """What can be done now: the desk's decisions while it is under review (or waiting for
        more information), and a new document while one was asked for. For an approved
        application: a renewed licence from RENEWAL_WINDOW_DAYS before the approved one expires
        (and after it expired), and once one was sent early, the desk's approval of it or its
        request for another (never a rejection: the approved licence stands)."""
        if self.renewal_waiting:
            return frozenset({ApplicationAction.APPROVE, ApplicationAction.REQUEST_INFO})
        actions = {action for action, target in ACTION_TARGETS.items() if self.can_become(target)}
        if self.status == ApplicationStatus.APPROVED and today < self.renewal_opens_on():
            actions.discard(ApplicationAction.SEND_DOCUMENT)
        return frozenset(actions)

    def awaits_decision(self, today: date) -> bool:
        return bool(self.available_actions(today) & DESK_DECISIONS)

    def correctable(self, today: date) -> bool:
        """The desk corrects what was typed before deciding an application; a renewal sent early
        is approved or sent back, and the approved details stay as they are."""
        return self.awaits_decision(today) and not self.renewal_waiting

    def licence_details(self) -> dict:
        """The licence as the applicant gave it (or the desk corrected it), field by field."""
        return {name: getattr(self, name) for name in LICENCE_FIELDS}


# What the verification desk can correct of an application before deciding, and how it names it.
LICENCE_FIELDS = {
    "profession": "Profession",
    "licence_number": "Licence number",
    "licence_region": "Issued by",
    "licence_expiry": "Expiry",
}


class LicenceDocument(db.Model):
    """A scan of a licence. The file lives in UPLOAD_FOLDER under `stored_name`, never in static."""

    __tablename__ = "licence_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("licence_applications.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    application: Mapped[LicenceApplication] = relationship(back_populates="documents")

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[self.content_type]

    @property
    def download_name(self) -> str:
        return f"licence-{self.application_id}-{self.id}.{self.extension}"


class ApplicationEvent(EventColumns, db.Model):
    """Who did what to an application, and when. Written with every change, never edited."""

    __tablename__ = "application_events"

    application_id: Mapped[int] = mapped_column(ForeignKey("licence_applications.id"), index=True)

    application: Mapped[LicenceApplication] = relationship(back_populates="events")

    @property
    def label(self) -> str:
        return {
            "submitted": "Application submitted",
            "approved": "Approved",
            "rejected": "Rejected",
            "info_requested": "More information requested",
            "document_uploaded": "New document uploaded",
            "renewal_submitted": "Renewed licence submitted",
            "corrected": "Licence details corrected",
            "attached": "Attached to an existing practice",
            "renewal_approved": "Renewed licence approved",
            "renewal_info_requested": "Another renewed licence requested",
            "expiry_reminder": "Reminded of the licence's expiry",
        }.get(self.action, self.action.replace("_", " ").capitalize())


class ReminderKind(LabelledEnum):
    """The emails sent as a licence runs out, least urgent first."""

    DAYS_30 = "30_days", "30 days before expiry"
    DAYS_7 = "7_days", "7 days before expiry"
    LAPSED = "lapsed", "The day it lapsed"


class LicenceReminder(db.Model):
    """A reminder sent about an approved licence's expiry, written with its email, so each is
    sent once per application, expiry date and kind, however often (or however many at once)
    the check runs. A renewed licence has another date, so it is reminded afresh."""

    __tablename__ = "licence_reminders"
    __table_args__ = (
        UniqueConstraint("application_id", "expires_on", "kind", name="uq_licence_reminders_application_expiry_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("licence_applications.id"), index=True)
    expires_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[ReminderKind] = mapped_column(enum_column(ReminderKind, "licence_reminder_kind"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))
