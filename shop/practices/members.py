"""The people of a practice: its owner invites colleagues by email, gives each a role (owner or
buyer) and removes those who leave; staff may remove a member too. A practice always keeps at
least one owner. Removing someone ends their membership, never their history: the orders and
quotes they placed stay with the practice, under their name and licence.

Every change is an event of the practice (who, when, before → after), and a staff member's
change is in the audit log as well (shop.core.events writes both)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from shop import clock
from shop.access import Desk
from shop.core import events
from shop.core.db import hold, unit_of_work
from shop.core.outbox import queue_email
from shop.errors import InvalidTransition, NotEligible, NotFound
from shop.extensions import db
from shop.practices.models import Invitation, Practice, PracticeRole
from shop.urls import external_url

if TYPE_CHECKING:
    from shop.accounts.models import User

INVITATION_SALT = "practice-invitation"
INVITATION_LIFETIME = timedelta(days=14)
MAX_OPEN_INVITATIONS = 20


def is_owner(user: User, practice: Practice | None = None) -> bool:
    """Whether `user` is an owner of `practice` (of their own, when not given) and may manage it
    now: a verified clinician whose role there is owner."""
    practice = practice or user.practice
    return (
        practice is not None
        and user.practice_id == practice.id
        and user.practice_role == PracticeRole.OWNER
        and user.is_verified(clock.today())
    )


def require_owner(user: User) -> Practice:
    """The user's practice, when they may manage it; NotEligible otherwise."""
    if not is_owner(user):
        raise NotEligible("Only an owner of the practice can do this. Ask your practice's owner.")
    return user.practice


def members_with_licences(practice: Practice) -> list[User]:
    """The practice's members, each with their licence, in two statements however many there are
    (the practice's pages list both). The members are accounts, a part above this one: their
    class is read from the relationship rather than imported."""
    account = Practice.members.property.mapper.class_
    return list(
        db.session.scalars(
            select(account)
            .where(account.practice_id == practice.id)
            .options(selectinload(account.application))
            .order_by(account.id)
        )
    )


def _member(practice: Practice, member_id: int) -> User:
    member = next((m for m in practice.members if m.id == member_id), None)
    if member is None:
        raise NotFound("There is no such member of your practice.")
    return member


def _hold(practice: Practice, actor: User) -> None:
    """Take the practice's row lock, then read its members and the actor afresh: two owners
    changing roles at the same moment are taken one after the other, so they can never leave it
    without an owner, and one demoted a moment ago no longer acts as an owner."""
    hold(Practice.name, practice.id)
    db.session.expire(practice, ["members"])
    db.session.refresh(actor)
    if not may_manage_members(actor, practice):
        raise NotEligible("Only an owner of the practice can do this. Ask your practice's owner.")


def _record(practice: Practice, actor: User | None, action: str, note: str, changes: dict | None = None) -> None:
    events.record_note(practice, actor, action, note, changes=changes)


# --- invitations ------------------------------------------------------------------------------


def invite(owner: User, email: str, role: PracticeRole = PracticeRole.BUYER) -> Invitation:
    """Email a colleague a link to apply as a member of the owner's practice. Inviting an address
    again renews its open invitation instead of adding another. Raises NotEligible (not an owner,
    already a member, too many open invitations)."""
    practice = require_owner(owner)
    email = (email or "").strip().lower()
    if any(member.email == email for member in practice.members):
        raise NotEligible(f"{email} is already a member of {practice.name}.", field="email")
    now = clock.now()
    with unit_of_work():
        _hold(practice, owner)
        invitation = db.session.scalar(
            select(Invitation).where(
                Invitation.practice_id == practice.id,
                Invitation.email == email,
                Invitation.accepted_at.is_(None),
                Invitation.cancelled_at.is_(None),
            )
        )
        if invitation is None:
            if len(open_invitations(practice)) >= MAX_OPEN_INVITATIONS:
                raise NotEligible(
                    f"{practice.name} has {MAX_OPEN_INVITATIONS} invitations waiting; withdraw some before inviting more."
                )
            invitation = Invitation(practice_id=practice.id, email=email, role=role, created_at=now)
            db.session.add(invitation)
        invitation.role = role
        invitation.invited_by_id = owner.id
        invitation.expires_at = now + INVITATION_LIFETIME
        db.session.flush()
        _record(practice, owner, "member_invited", f"{email} invited as {role.label.lower()}.")
        queue_email(
            kind="practice.invitation",
            to=email,
            subject=f"{owner.full_name} invites you to order for {practice.name}",
            template="practice_invitation",
            invitation=invitation,
            practice=practice,
            owner=owner,
            link=external_url("auth.join", token=_serializer().dumps({"i": invitation.id, "e": email})),
            days=INVITATION_LIFETIME.days,
            reply_to=owner.email,
        )
    return invitation


def cancel_invitation(owner: User, invitation_id: int) -> None:
    practice = require_owner(owner)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.practice_id != practice.id:
        raise NotFound("There is no such invitation.")
    with unit_of_work():
        withdrawn = db.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None), Invitation.cancelled_at.is_(None))
            .values(cancelled_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        if withdrawn.rowcount != 1:
            raise InvalidTransition(f"The invitation to {invitation.email} was already accepted or withdrawn.")
        _record(practice, owner, "invitation_cancelled", f"Invitation to {invitation.email} withdrawn.")


def open_invitations(practice: Practice) -> list[Invitation]:
    now = clock.now()
    rows = db.session.scalars(
        select(Invitation)
        .where(Invitation.practice_id == practice.id, Invitation.accepted_at.is_(None))
        .where(Invitation.cancelled_at.is_(None))
        .order_by(Invitation.created_at)
    )
    return [row for row in rows if row.is_open(now)]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=INVITATION_SALT)


def invitation_for(token: str, now: datetime | None = None) -> Invitation | None:
    """The open invitation an emailed link names, or None (not genuine, accepted, withdrawn,
    expired)."""
    try:
        payload = _serializer().loads(token, max_age=int(INVITATION_LIFETIME.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("i"), int):
        return None
    invitation = db.session.get(Invitation, payload["i"])
    if invitation is None or invitation.email != payload.get("e") or not invitation.is_open(now or clock.now()):
        return None
    return invitation


def accept(invitation: Invitation, user: User) -> None:
    """`user` (just registered under the invited address) joins the practice with the invited
    role; in the caller's transaction. Raises InvalidTransition when the invitation was accepted
    or withdrawn a moment ago."""
    taken = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None), Invitation.cancelled_at.is_(None))
        .values(accepted_at=clock.now(), accepted_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        raise InvalidTransition(
            "This invitation was already used or withdrawn. Ask the practice's owner for a new one."
        )
    join(
        user,
        invitation.practice,
        invitation.role,
        user,
        "member_joined",
        f"Invited by {invitation.invited_by.full_name}.",
    )


def join(user: User, practice: Practice, role: PracticeRole, actor: User | None, action: str, note: str) -> None:
    """Make `user` a member of `practice` with `role`, in the caller's transaction."""
    user.practice = practice
    user.practice_role = role
    db.session.flush()
    _record(practice, actor, action, f"{user.full_name} <{user.email}> as {role.label.lower()}. {note}".strip())


# --- roles and removal ------------------------------------------------------------------------


def set_role(owner: User, member_id: int, role: PracticeRole) -> User:
    """An owner makes a member an owner or a buyer. Raises NotEligible when that would leave the
    practice without an owner."""
    practice = require_owner(owner)
    with unit_of_work():
        _hold(practice, owner)
        member = _member(practice, member_id)
        before = member.practice_role
        if before == role:
            return member
        if before == PracticeRole.OWNER and len(practice.owners) <= 1:
            raise NotEligible("A practice needs an owner: make someone else an owner first.")
        member.practice_role = role
        _record(
            practice,
            owner,
            "role_changed",
            f"{member.full_name}: {before.label if before else 'none'} → {role.label}.",
            {"role": (before, role)},
        )
    return member


def may_manage_members(actor: User, practice: Practice) -> bool:
    return is_owner(actor, practice) or (actor.is_staff and actor.works(Desk.CUSTOMERS))


def remove_member(actor: User, practice: Practice, member_id: int) -> User:
    """An owner (or the customers desk) removes a member: their membership ends, their history
    stays with the practice. Raises NotEligible (not allowed, or the last owner), NotFound."""
    if not may_manage_members(actor, practice):
        raise NotEligible("Only an owner of the practice, or the customers desk, can remove a member.")
    with unit_of_work():
        _hold(practice, actor)
        member = _member(practice, member_id)
        if member.practice_role == PracticeRole.OWNER and len(practice.owners) <= 1:
            raise NotEligible(f"{member.full_name} is the practice's only owner: make someone else an owner first.")
        before = member.practice_role
        member.practice_id = None
        member.practice_role = None
        db.session.flush()
        _record(
            practice,
            actor,
            "member_removed",
            f"{member.full_name} <{member.email}> removed; their orders and quotes stay with the practice.",
            {"member": (member.email, None), "role": (before, None)},
        )
    db.session.expire(practice, ["members"])
    return member
