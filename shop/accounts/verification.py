"""The verification desk: staff approve, reject or ask for more, and clinicians answer with a
new document (or a renewed licence: shop.accounts.renewals). Every step checks the status
table, records an event, emails the clinician, and is taken at most once even when two people
click at the same moment."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from flask import current_app
from sqlalchemy import or_, select
from werkzeug.datastructures import FileStorage

from shop import clock
from shop.accounts import renewals
from shop.accounts.documents import stored_document
from shop.accounts.licences import (
    LICENCE_FIELDS,
    ApplicationAction,
    ApplicationEvent,
    ApplicationStatus,
    LicenceApplication,
)
from shop.accounts.models import Profession, User
from shop.accounts.registration import check_licence_expiry, document_row
from shop.core import events
from shop.core.db import hold, unit_of_work
from shop.core.outbox import queue_email
from shop.errors import InvalidTransition, NotEligible, NotFound
from shop.extensions import db
from shop.urls import external_url

DECISIONS = {
    ApplicationStatus.APPROVED: ("approved", "application.approved", "Your account is approved"),
    ApplicationStatus.REJECTED: ("rejected", "application.rejected", "Your application was not approved"),
    ApplicationStatus.NEEDS_INFO: ("info_requested", "application.info_requested", "We need more information"),
}


def get_application(application_id: int) -> LicenceApplication:
    """An application as the desk sees it: one whose applicant confirmed their address."""
    application = db.session.get(LicenceApplication, application_id)
    if application is None or application.applicant.email_confirmed_at is None:
        raise NotFound("There is no such application.")
    return application


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise NotEligible("Only staff can decide on applications.")


def _move(
    application: LicenceApplication, target: ApplicationStatus, actor: User | None, action: str, note: str, **values
) -> None:
    events.advance(application, target, actor, action, note, **values)


def decide(application_id: int, staff: User, target: ApplicationStatus, note: str = "") -> LicenceApplication:
    """Approve, reject (note = reason, required) or ask for more information (note = what is
    needed, required). Raises NotEligible, NotFound or InvalidTransition."""
    _require_staff(staff)
    application = get_application(application_id)
    note = (note or "").strip()
    if target in (ApplicationStatus.REJECTED, ApplicationStatus.NEEDS_INFO) and not note:
        raise NotEligible("Say why, so the clinician knows what to do.", field="reason")
    if application.renewal_waiting:
        with unit_of_work():
            return renewals.decide(application, staff, target, note)
    if target == ApplicationStatus.APPROVED and application.licence_expired(clock.today()):
        raise NotEligible(
            f"The licence on file expired on {application.licence_expiry.isoformat()}; ask for a current one instead."
        )
    action, kind, subject = DECISIONS[target]
    with unit_of_work():
        now = clock.now()
        _move(application, target, staff, action, note, decided_at=now, decided_by_id=staff.id, decision_note=note)
        db.session.expire(application)
        renewals.email_applicant(application, kind, subject, note)
    return application


@dataclass(frozen=True)
class LicenceDetails:
    """The licence as the desk reads it on the document: what a correction sets."""

    profession: Profession
    licence_number: str
    licence_region: str
    licence_expiry: date


def correct(application_id: int, staff: User, details: LicenceDetails) -> LicenceApplication:
    """The desk corrects what the applicant typed (a nurse who chose "physician", a digit
    mistyped) before deciding, so what is approved is what the document says. Each correction
    is an event and an audit entry with every field's before and after. Raises NotEligible
    (not staff, nothing changed, an expired date), NotFound, or InvalidTransition once the
    application is no longer waiting for a decision."""
    _require_staff(staff)
    application = get_application(application_id)
    with unit_of_work():
        hold(LicenceApplication.status, application.id)
        db.session.refresh(application)
        if not application.correctable(clock.today()):
            raise InvalidTransition(
                f"Application #{application.id} is {application.status.label.lower()}; "
                "only an application waiting for a decision can be corrected."
            )
        wanted = asdict(details)
        wanted["licence_number"], wanted["licence_region"] = (
            details.licence_number.strip(),
            details.licence_region.strip(),
        )
        if wanted["licence_expiry"] != application.licence_expiry and wanted["licence_expiry"] < clock.today():
            raise NotEligible(
                f"{wanted['licence_expiry'].isoformat()} has passed, and an expired licence cannot be approved. "
                "Ask the clinician for a current one instead.",
                field="licence_expiry",
            )
        changes = {name: (getattr(application, name), wanted[name]) for name in LICENCE_FIELDS}
        changes = {name: pair for name, pair in changes.items() if pair[0] != pair[1]}
        if not changes:
            raise NotEligible("Nothing was changed: the details are as the application already has them.")
        for name, (_before, after) in changes.items():
            setattr(application, name, after)
        events.record_note(application, staff, "corrected", _describe(changes), changes=changes)
    return application


def _describe(changes: dict) -> str:
    """The changes as the history reads them: "Profession: Physician (MD/DO) → Registered nurse…"."""

    def shown(value) -> str:
        if isinstance(value, Profession):
            return value.label
        return value.isoformat() if isinstance(value, date) else str(value)

    return "; ".join(f"{LICENCE_FIELDS[name]}: {shown(b)} → {shown(a)}" for name, (b, a) in changes.items())


def can_submit_document(application: LicenceApplication | None, today: date) -> bool:
    return application is not None and ApplicationAction.SEND_DOCUMENT in application.available_actions(today)


def submit_document(
    clinician: User, document: FileStorage | None, licence_expiry: date, message: str = ""
) -> LicenceApplication:
    """The clinician answers a request for information, or sends a renewed licence: after the
    one on file expired the application goes back to the review queue; before that (from
    RENEWAL_WINDOW_DAYS ahead) the renewal waits beside the approved licence, which keeps the
    account open (shop.accounts.renewals). Raises NotFound, InvalidTransition, NotEligible (an
    expired licence, a renewal that does not run beyond the one on file) or InvalidDocument."""
    application = clinician.application
    if application is None:
        raise NotFound("You have no application on file.")
    if not can_submit_document(application, clock.today()):
        raise InvalidTransition("Your application is not waiting for a document.")
    check_licence_expiry(licence_expiry)
    early = renewals.sent_early(application, clock.today())
    if early:
        renewals.check_renewed_expiry(application, licence_expiry)
    renewal = application.status == ApplicationStatus.APPROVED
    message = (message or "").strip()
    with stored_document(document) as stored, unit_of_work():
        now = clock.now()
        if early:
            renewals.receive(application, clinician, licence_expiry, message, now)
        else:
            _move(
                application,
                ApplicationStatus.PENDING,
                clinician,
                "renewal_submitted" if renewal else "document_uploaded",
                message,
                licence_expiry=licence_expiry,
                queued_at=now,
            )
        row = document_row(stored)
        row.application_id = application.id
        db.session.add(row)
        db.session.flush()
        db.session.expire(application)
        queue_email(
            kind="application.document_uploaded",
            to=current_app.config["CUSTOMER_CARE_EMAIL"],
            subject=f"Application #{application.id}: {'renewed licence' if renewal else 'new licence document'} "
            f"from {clinician.full_name}",
            template="application_document_uploaded",
            user=clinician,
            application=application,
            message=message,
            link=external_url("staff.application", application_id=application.id),
        )
    return application


def confirmed_applications():
    """Applications whose applicant confirmed their address: the only ones the desk sees."""
    return (
        select(LicenceApplication)
        .join(User, User.id == LicenceApplication.user_id)
        .where(User.email_confirmed_at.is_not(None))
    )


# What a clinician does that sends an application back to the desk with a new document.
NEW_DOCUMENT = ("document_uploaded", "renewal_submitted")


def reuploaded():
    """The condition for an application back with the desk because its clinician sent a new
    document (after a request for more, or a renewal): such an event since it joined the queue."""
    return (
        select(ApplicationEvent.id)
        .where(
            ApplicationEvent.application_id == LicenceApplication.id,
            ApplicationEvent.action.in_(NEW_DOCUMENT),
            ApplicationEvent.created_at >= LicenceApplication.queued_at,
        )
        .correlate(LicenceApplication)
        .exists()
    )


def renewal_waiting():
    """The condition for an approved application with a renewed licence sent early, waiting."""
    return (LicenceApplication.status == ApplicationStatus.APPROVED) & LicenceApplication.renewal_expiry.is_not(None)


# The desk's lists of applications: the condition of each, by the name in its link.
QUEUES = {
    "open": lambda: or_(
        LicenceApplication.status.in_([ApplicationStatus.PENDING, ApplicationStatus.NEEDS_INFO]), renewal_waiting()
    ),
    "reuploaded": lambda: (LicenceApplication.status == ApplicationStatus.PENDING) & reuploaded(),
    "renewal": renewal_waiting,
    "all": lambda: None,
    **{status.value: (lambda status=status: LicenceApplication.status == status) for status in ApplicationStatus},
}


def review_queue(statuses: list[ApplicationStatus] | None):
    """Applications for the desk in these statuses (all when None), oldest in the queue first."""
    query = confirmed_applications().order_by(LicenceApplication.queued_at, LicenceApplication.id)
    if statuses is not None:
        query = query.where(LicenceApplication.status.in_(statuses))
    return query


def desk_list(shown: str):
    """The applications of the desk's list `shown` (a key of QUEUES), oldest in the queue first."""
    condition = QUEUES[shown]()
    query = review_queue(None)
    return query if condition is None else query.where(condition)
