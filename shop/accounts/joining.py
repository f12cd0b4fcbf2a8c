"""A clinician joins an existing practice instead of founding one: by registering through an
owner's emailed invitation, or attached by the verification desk while their application is
reviewed (the desk is shown practices that look the same, by name or address, and chooses; it is
never done automatically). Either way their own licence is verified as anyone else's."""

from __future__ import annotations

import re
from dataclasses import replace
from difflib import SequenceMatcher

from sqlalchemy import func, or_, select
from werkzeug.datastructures import FileStorage

from shop import clock
from shop.accounts import registration, verification
from shop.accounts.documents import check_document, stored_document
from shop.accounts.licences import LicenceApplication
from shop.accounts.models import User, user_with_email
from shop.core import events
from shop.core.db import unit_of_work
from shop.errors import DuplicateAccount, InvalidTransition, NotEligible, NotFound
from shop.extensions import db
from shop.practices import members
from shop.practices.models import Address, Invitation, Practice, PracticeRole

MAX_SUGGESTIONS = 5


def register_invited(
    invitation: Invitation, application: registration.Application, document: FileStorage | None
) -> User:
    """Apply as a member of the inviting practice. The emailed link proves the address, so the
    application goes to the verification desk at once. Raises the first of the application's
    problems, DuplicateAccount (the address has an account: log in with it instead), or
    InvalidTransition (the invitation was used or withdrawn meanwhile); nothing is kept then."""
    if document is None:
        check_document(None)
    problems = registration.application_problems(
        password=application.password,
        user_inputs=(invitation.email, application.full_name, invitation.practice.name),
        licence_expiry=application.licence_expiry,
        document=document,
    )
    if problems:
        raise problems[0]
    taken = DuplicateAccount(
        f"There is already an account under {invitation.email}. Log in with it, then open the invitation's link "
        f"again to join {invitation.practice.name}."
    )
    if user_with_email(invitation.email) is not None:
        raise taken
    with stored_document(document) as stored, unit_of_work(conflict=taken):
        data = replace(application, email=invitation.email, practice=None)
        user = registration.add_applicant(data, stored, confirmed=True)
        members.accept(invitation, user)
        registration.announce(user, user.application)
    return user


def accept_as_member(invitation: Invitation, user: User) -> None:
    """A clinician who has an account under the invited address and no practice (they left
    theirs, or were removed from it) joins with that account; their licence stays as verified.
    Raises NotEligible (another address, not a clinician, a member of a practice already) or
    InvalidTransition (used or withdrawn meanwhile)."""
    if user.email != invitation.email:
        raise NotEligible(f"This invitation is for {invitation.email}. Log out, and log in with that address.")
    if not user.is_clinician:
        raise NotEligible("Invitations are for clinicians; staff accounts do not join practices.")
    if user.practice_id is not None:
        raise NotEligible(
            f"You are a member of {user.practice.name}. Ask its owner to remove you first, or call customer care."
        )
    with unit_of_work():
        members.accept(invitation, user)


# --- the verification desk attaches an applicant ---------------------------------------------------


def _folded(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", (text or "").lower())


# Words too common in practice names to find a match by.
COMMON_WORDS = frozenset({"clinic", "clinics", "practice", "medical", "aesthetic", "aesthetics", "skin", "the", "and"})
ALIKE = 0.85  # how close two names must be, once folded (difflib's ratio)


def similar_practices(applicant: User) -> list[Practice]:
    """Other practices that look like the applicant's own: a name that is the same or nearly so
    once case, spaces and punctuation are set aside ("Harbour Skin Clinic." and "Harbor Skin
    Clinic"), or an address with the same first line and postcode."""
    own = applicant.practice
    if own is None:
        return []
    name = _folded(own.name)
    places = {(_folded(a.line1), _folded(a.postcode)) for a in own.addresses}
    words = {w for w in re.findall(r"[a-z0-9]{3,}", own.name.lower()) if w not in COMMON_WORDS}
    postcodes = {_folded(a.postcode) for a in own.addresses}
    candidates = db.session.scalars(
        select(Practice)
        .outerjoin(Address, Address.practice_id == Practice.id)
        .where(Practice.id != own.id)
        .where(
            or_(
                *(func.lower(Practice.name).contains(word, autoescape=True) for word in sorted(words)[:5]),
                func.lower(func.replace(Address.postcode, " ", "")).in_(postcodes),
            )
        )
        .distinct()
        .order_by(Practice.name)
        .limit(200)
    ).all()

    def alike(practice: Practice) -> bool:
        if SequenceMatcher(None, _folded(practice.name), name).ratio() >= ALIKE:
            return True
        return bool(places & {(_folded(a.line1), _folded(a.postcode)) for a in practice.addresses})

    return [p for p in candidates if alike(p)][:MAX_SUGGESTIONS]


def practices_named(text: str, limit: int = 10) -> list[Practice]:
    """Practices whose name contains `text`, for the desk's own search."""
    text = (text or "").strip().lower()[:80]
    if not text:
        return []
    return list(
        db.session.scalars(
            select(Practice).where(func.lower(Practice.name).contains(text, autoescape=True)).order_by(Practice.name)
        ).all()[:limit]
    )


def attach_to_practice(application_id: int, staff: User, practice_id: int) -> LicenceApplication:
    """The desk makes a new applicant a buyer of an existing practice instead of the one they
    typed in (which is removed: a new applicant has no orders or quotes there). Raises NotFound,
    NotEligible or InvalidTransition (decided, or once approved: a member with a history moves
    only by leaving one practice and being invited to another)."""
    if not staff.is_staff:
        raise NotEligible("Only staff can attach an applicant to a practice.")
    application = verification.get_application(application_id)
    target = db.session.get(Practice, practice_id)
    if target is None:
        raise NotFound("There is no such practice.")
    if not application.awaits_decision(clock.today()) or any(e.action == "approved" for e in application.events):
        raise InvalidTransition(
            f"Application #{application.id} is not a new application waiting for a decision, so it is not moved."
        )
    applicant = application.applicant
    if applicant.practice_id == target.id:
        raise NotEligible(f"{applicant.full_name} is already a member of {target.name}.")
    with unit_of_work():
        own = applicant.practice
        members.join(applicant, target, PracticeRole.BUYER, staff, "member_attached", f"Application #{application.id}.")
        if own is not None and not own.members:
            db.session.delete(own)
        events.record_note(
            application,
            staff,
            "attached",
            f"Attached to {target.name} as a buyer"
            + (f"; the practice they typed in ({own.name}) is removed." if own is not None else "."),
            changes={"practice": (own.name if own else None, target.name)},
        )
    return application
