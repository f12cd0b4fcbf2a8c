"""A clinician applies for an account: user, practice, address, licence application and its
document are created together or not at all. The applicant confirms the address from an
email; then the application reaches the verification desk, and the applicant and customer care
are told. An application under an address that has an account looks the same from outside."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import update
from werkzeug.datastructures import FileStorage

from shop import clock
from shop.accounts.documents import StoredFile, check_document, stored_document
from shop.accounts.licences import ApplicationEvent, ApplicationStatus, LicenceApplication, LicenceDocument
from shop.accounts.models import Profession, Role, User, user_with_email
from shop.accounts.passwords import hash_password, password_problem
from shop.accounts.users import new_user
from shop.core.db import unit_of_work
from shop.core.outbox import queue_email
from shop.errors import DuplicateAccount, NotEligible, ShopError, WeakPassword
from shop.extensions import db
from shop.practices.models import PracticeRole
from shop.practices.practices import PracticeDetails, add_practice
from shop.urls import external_url

CONFIRM_SALT = "confirm-email"


@dataclass(frozen=True)
class Application:
    email: str
    password: str
    full_name: str
    profession: Profession
    licence_number: str
    licence_region: str
    licence_expiry: date
    # None for a colleague joining an existing practice by invitation.
    practice: PracticeDetails | None


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


def application_problems(
    *,
    password: str | None,
    user_inputs: tuple[str, ...],
    licence_expiry: date | None,
    document: FileStorage | None,
) -> list[ShopError]:
    """Everything wrong with an application at once (beyond the form's own rules; a value that
    is None is not checked), so the applicant corrects it in one go. Whether the email has an
    account is never one of them."""
    problems: list[ShopError] = []
    weak = password_problem(password, user_inputs=user_inputs) if password is not None else None
    if weak:
        problems.append(WeakPassword(weak, field="password"))
    checks = ((check_licence_expiry, licence_expiry), (check_document, document))
    for check, value in checks:
        if value is None:
            continue
        try:
            check(value)
        except ShopError as problem:
            problems.append(problem)
    if document is not None:
        document.stream.seek(0)
    return problems


def register_clinician(application: Application, document: FileStorage | None) -> User | None:
    """Take an application: a new account waits for its owner to confirm the address from the
    email sent now; an address that already has an account gets an email saying so instead.
    Both take the same work and look the same to whoever applied, so the form never tells
    who has an account.

    Returns the new account (None when the address had one already). Raises the first of
    `application_problems` (weak password, expired licence, InvalidDocument); nothing is kept,
    not even the uploaded file, when it does.
    """
    if document is None:
        check_document(None)  # raises: a document is part of every application
    problems = application_problems(
        password=application.password,
        user_inputs=(application.email, application.full_name, application.practice.name),
        licence_expiry=application.licence_expiry,
        document=document,
    )
    if problems:
        raise problems[0]
    existing = user_with_email(application.email)
    if existing is not None:
        hash_password(application.password)  # the work a new account's hash takes
        _tell_the_owner(existing)
        return None
    try:
        with stored_document(document) as stored, unit_of_work(conflict=DuplicateAccount("", field="email")):
            user = add_applicant(application, stored)
            send_confirmation(user)
            return user
    except DuplicateAccount:  # the same address applied at the same moment
        db.session.rollback()
        _tell_the_owner(user_with_email(application.email))
        return None


def _tell_the_owner(owner: User) -> None:
    with unit_of_work():
        queue_email(
            kind="application.duplicate",
            to=owner.email,
            subject="Someone applied with your email address",
            template="application_duplicate",
            user=owner,
            confirm_link=None if owner.email_confirmed_at else _confirmation_link(owner),
            login_link=external_url("auth.login"),
            reset_link=external_url("auth.forgot_password"),
            reply_to=current_app.config["CUSTOMER_CARE_EMAIL"],
        )


def add_applicant(data: Application, stored: StoredFile, *, confirmed: bool = False) -> User:
    """The applicant's account, licence application (pending) and document, and their own
    practice as its owner when the application names one; in the caller's unit of work."""
    now = clock.now()
    user = new_user(
        email=data.email, password=data.password, full_name=data.full_name, role=Role.CLINICIAN, confirmed=confirmed
    )
    if data.practice is not None:
        user.practice = add_practice(data.practice)
        user.practice_role = PracticeRole.OWNER
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
    return user


# --- confirming the address ----------------------------------------------------------------------


def send_confirmation(user: User) -> None:
    """Email the link that confirms the address, in the caller's unit of work."""
    queue_email(
        kind="account.confirm_email",
        to=user.email,
        subject="Confirm your email address to send your application",
        template="confirm_email",
        user=user,
        link=_confirmation_link(user),
        hours=current_app.config["EMAIL_CONFIRMATION_MAX_AGE"] // 3600,
    )


def resend_confirmation(user: User) -> None:
    if user.email_confirmed_at is None:
        with unit_of_work():
            send_confirmation(user)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT)


def _confirmation_link(user: User) -> str:
    return external_url("auth.confirm_email", token=_serializer().dumps({"u": user.id, "e": user.email}))


def confirm_email(token: str) -> User | None:
    """The applicant whose address the link confirms, now confirmed: their application joins
    the verification desk's queue, and they and customer care are told. None if the link is
    not genuine, has expired, or was already used."""
    try:
        payload = _serializer().loads(token, max_age=current_app.config["EMAIL_CONFIRMATION_MAX_AGE"])
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        return None
    user = db.session.get(User, payload["u"])
    if user is None or user.email != payload.get("e") or user.email_confirmed_at is not None or not user.active:
        return None
    return user if confirm(user) else None


def confirm(user: User) -> bool:
    """Mark the address confirmed and send the application to the desk; False if it already was."""
    now = clock.now()
    with unit_of_work():
        confirmed = db.session.execute(
            update(User)
            .where(User.id == user.id, User.email_confirmed_at.is_(None))
            .values(email_confirmed_at=now)
            .execution_options(synchronize_session=False)
        )
        if confirmed.rowcount != 1:  # the same link opened twice at once
            return False
        db.session.refresh(user)
        application = user.application
        if application is not None:
            application.queued_at = now
            announce(user, application)
    return True


def announce(user: User, application: LicenceApplication) -> None:
    """Tell the applicant and customer care that the application is with the desk."""
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
