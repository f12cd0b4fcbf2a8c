"""A clinician applies for an account: user, practice, address, licence application and its
document are created together or not at all, and the applicant and customer care are told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from werkzeug.datastructures import FileStorage

from shop import clock
from shop.accounts.documents import StoredFile, stored_document
from shop.accounts.licences import ApplicationEvent, ApplicationStatus, LicenceApplication, LicenceDocument
from shop.accounts.models import Profession, Role, User
from shop.accounts.passwords import password_problem
from shop.accounts.users import PracticeDetails, add_practice, email_taken, new_user
from shop.core.db import unit_of_work
from shop.core.outbox import queue_email
from shop.errors import DuplicateAccount, NotEligible, WeakPassword
from shop.extensions import db
from shop.urls import external_url

DUPLICATE_MESSAGE = "An account with this email already exists. Log in, or reset your password."


@dataclass(frozen=True)
class Application:
    email: str
    password: str
    full_name: str
    profession: Profession
    licence_number: str
    licence_region: str
    licence_expiry: date
    practice: PracticeDetails


def document_row(stored: StoredFile) -> LicenceDocument:
    return LicenceDocument(
        stored_name=stored.stored_name,
        original_filename=stored.original_filename,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        uploaded_at=clock.now(),
    )


def check_licence_expiry(expiry: date) -> None:
    if expiry < clock.today():
        raise NotEligible(
            f"This licence expired on {expiry.isoformat()}. Apply with a current licence.",
            field="licence_expiry",
        )


def register_clinician(application: Application, document: FileStorage | None) -> User:
    """Create the applicant's account with a pending licence application.

    Raises DuplicateAccount (email, also when the same email is registered concurrently),
    NotEligible (expired licence or weak password) or InvalidDocument (missing, too large or
    not a PDF/JPEG/PNG). Nothing is kept, not even the uploaded file, when any of them is
    raised.
    """
    if email_taken(application.email):
        raise DuplicateAccount(DUPLICATE_MESSAGE, field="email")
    problem = password_problem(
        application.password, user_inputs=(application.email, application.full_name, application.practice.name)
    )
    if problem:
        raise WeakPassword(problem, field="password")
    check_licence_expiry(application.licence_expiry)

    # A conflict means the same email raced in between the check above and the new rows.
    with stored_document(document) as stored, unit_of_work(conflict=DuplicateAccount(DUPLICATE_MESSAGE, field="email")):
        return _add_applicant(application, stored)


def _add_applicant(data: Application, stored: StoredFile) -> User:
    now = clock.now()
    user = new_user(email=data.email, password=data.password, full_name=data.full_name, role=Role.CLINICIAN)
    user.practice = add_practice(data.practice)
    application = LicenceApplication(
        applicant=user,
        profession=data.profession,
        licence_number=data.licence_number.strip(),
        licence_region=data.licence_region.strip(),
        licence_expiry=data.licence_expiry,
        status=ApplicationStatus.PENDING,
        submitted_at=now,
        queued_at=now,
    )
    application.documents.append(document_row(stored))
    db.session.add(application)
    db.session.add(
        ApplicationEvent(
            application=application,
            actor=user,
            action="submitted",
            from_status=None,
            to_status=ApplicationStatus.PENDING.value,
            created_at=now,
        )
    )
    db.session.flush()
    config = current_app.config
    queue_email(
        kind="application.received",
        to=user.email,
        subject="We received your application",
        template="application_received",
        user=user,
        application=application,
        link=external_url("account.status"),
        reply_to=config["CUSTOMER_CARE_EMAIL"],
    )
    queue_email(
        kind="application.new",
        to=config["CUSTOMER_CARE_EMAIL"],
        subject=f"New licence application #{application.id}: {user.full_name}, {user.practice.name}",
        template="application_new",
        user=user,
        application=application,
        link=external_url("staff.application", application_id=application.id),
    )
    return user
