"""Licence verification: a clinician's application, the licence documents uploaded for it, and
the event trail of every decision. The status flow lives in one table here."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, Text
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


# Which status may follow which. A rejection is final; an approved application returns to
# review only when the clinician sends a renewed licence after the one on file expired.
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

    applicant: Mapped[User] = relationship(back_populates="application", foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    documents: Mapped[list[LicenceDocument]] = relationship(back_populates="application", order_by="LicenceDocument.id")
    events: Mapped[list[ApplicationEvent]] = relationship(back_populates="application", order_by="ApplicationEvent.id")

    def licence_expired(self, today: date) -> bool:
        return self.licence_expiry < today

    def lapsed(self, today: date) -> bool:
        """Approved, but the licence on file has expired since: a renewed one is needed."""
        return self.status == ApplicationStatus.APPROVED and self.licence_expired(today)

    def grants_access(self, today: date) -> bool:
        return self.status == ApplicationStatus.APPROVED and not self.licence_expired(today)

    def can_become(self, target: ApplicationStatus) -> bool:
        return target in APPLICATION_TRANSITIONS[self.status]

    described_as = "This application"

    @property
    def audit_label(self) -> str:
        return f"Application #{self.id} ({self.applicant.full_name})"

    def new_event(self, **columns) -> ApplicationEvent:
        return ApplicationEvent(application_id=self.id, **columns)

    def available_actions(self, today: date) -> frozenset[ApplicationAction]:
        """What can be done now: the desk's decisions while it is under review (or waiting for
        more information), and a new document while one was asked for or the approved licence
        has expired."""
        actions = {action for action, target in ACTION_TARGETS.items() if self.can_become(target)}
        if self.status == ApplicationStatus.APPROVED and not self.licence_expired(today):
            actions.discard(ApplicationAction.SEND_DOCUMENT)
        return frozenset(actions)

    def awaits_decision(self, today: date) -> bool:
        return bool(self.available_actions(today) & DESK_DECISIONS)

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
        }.get(self.action, self.action.replace("_", " ").capitalize())
