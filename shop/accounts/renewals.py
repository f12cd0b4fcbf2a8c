"""A renewed licence sent before the approved one expires: from RENEWAL_WINDOW_DAYS before its
expiry a clinician sends the renewed licence, which waits beside the approved one (the account
stays open on the approved licence until that lapses, and orders keep naming it); the
verification desk approves the renewal, which then becomes the licence on file, or asks for
another. A renewal sent after the approved licence expired is a new document for review
instead (shop.accounts.verification.submit_document)."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app

from shop import clock
from shop.accounts.licences import ApplicationAction, ApplicationStatus, LicenceApplication
from shop.accounts.models import User
from shop.core import events
from shop.core.db import hold
from shop.core.outbox import queue_email
from shop.errors import InvalidTransition, NotEligible
from shop.extensions import db
from shop.urls import external_url


def sent_early(application: LicenceApplication, today: date) -> bool:
    """Whether a document the clinician sends now is a renewal sent early: the application is
    approved and its licence has not lapsed."""
    return application.status == ApplicationStatus.APPROVED and not application.licence_expired(today)


def check_renewed_expiry(application: LicenceApplication, renewed: date) -> None:
    """A renewed licence runs beyond the approved one; raises NotEligible otherwise."""
    if renewed <= application.licence_expiry:
        raise NotEligible(
            f"The licence on file is valid until {application.licence_expiry.isoformat()}; a renewed licence "
            "expires after that. Enter the expiry date printed on the renewed licence.",
            field="licence_expiry",
        )


def receive(application: LicenceApplication, clinician: User, renewed: date, message: str, now: datetime) -> None:
    """Keep the renewal beside the approved licence and put it in the desk's queue, in the
    caller's unit of work (which also keeps the document). Raises InvalidTransition when the
    application no longer takes one (a renewal sent a moment ago in another window)."""
    hold(LicenceApplication.status, application.id)
    db.session.refresh(application)
    if ApplicationAction.SEND_DOCUMENT not in application.available_actions(clock.today()):
        raise InvalidTransition("Your application is not waiting for a document.")
    application.renewal_expiry = renewed
    application.renewal_sent_at = now
    application.queued_at = now
    events.record_note(application, clinician, "renewal_submitted", message)


def decide(application: LicenceApplication, staff: User, target: ApplicationStatus, note: str) -> LicenceApplication:
    """The desk approves the renewal (it becomes the licence on file) or asks for another (note =
    what is needed); the clinician is emailed, and the decision is an event and an audit entry.
    A renewal is never rejected: the approved licence stands. Raises InvalidTransition (a
    rejection, or the renewal was decided a moment ago) or NotEligible (the renewal itself has
    expired)."""
    if target not in (ApplicationStatus.APPROVED, ApplicationStatus.NEEDS_INFO):
        raise InvalidTransition(
            "A renewed licence is approved, or sent back with what is needed; the licence approved before "
            "stays on file until it lapses."
        )
    hold(LicenceApplication.status, application.id)
    db.session.refresh(application)
    if not application.renewal_waiting:
        raise InvalidTransition(
            f"The renewed licence of application #{application.id} was decided a moment ago. "
            "Reload it to see where it stands."
        )
    renewed = application.renewal_expiry
    if target == ApplicationStatus.APPROVED and renewed < clock.today():
        raise NotEligible(f"The renewed licence expired on {renewed.isoformat()}; ask for a current one instead.")
    now = clock.now()
    application.renewal_expiry = None
    application.renewal_sent_at = None
    application.decided_at, application.decided_by_id, application.decision_note = now, staff.id, note
    if target == ApplicationStatus.APPROVED:
        before = application.licence_expiry
        application.licence_expiry = renewed
        events.record_note(application, staff, "renewal_approved", note, changes={"licence_expiry": (before, renewed)})
        email_applicant(application, "licence.renewal_approved", "Your renewed licence is verified", note)
    else:
        events.record_note(
            application, staff, "renewal_info_requested", note, changes={"renewal_expiry": (renewed, None)}
        )
        email_applicant(application, "licence.renewal_returned", "We need another copy of your renewed licence", note)
    return application


def email_applicant(application: LicenceApplication, kind: str, subject: str, note: str) -> None:
    """A decision on the application (or its renewal) to its clinician, through the outbox."""
    queue_email(
        kind=kind,
        to=application.applicant.email,
        subject=subject,
        template=kind.replace(".", "_"),
        user=application.applicant,
        application=application,
        note=note,
        lapsed=application.licence_expired(clock.today()),
        link=external_url("account.status"),
        catalogue_link=external_url("catalogue.index"),
        reply_to=current_app.config["CUSTOMER_CARE_EMAIL"],
    )
