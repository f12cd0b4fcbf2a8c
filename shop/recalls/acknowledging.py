"""A practice's side of a recall: the open recalls of lots it received, and a member's
acknowledgement (who, when), given once for the practice."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from shop import clock
from shop.accounts.models import User
from shop.core import events
from shop.core.db import unit_of_work
from shop.errors import InvalidTransition, NotEligible
from shop.extensions import db
from shop.lots.models import Lot
from shop.recalls.models import Recall, RecallNotice, RecallStatus


def notices_of(user: User) -> list[RecallNotice]:
    """The recall notices sent to the user's practice, open recalls first, newest first."""
    if user.practice_id is None:
        return []
    return list(
        db.session.scalars(
            select(RecallNotice)
            .join(Recall)
            .where(RecallNotice.practice_id == user.practice_id, RecallNotice.first_notified_at.is_not(None))
            .options(
                joinedload(RecallNotice.recall).joinedload(Recall.product),
                joinedload(RecallNotice.recall).selectinload(Recall.lots),
                joinedload(RecallNotice.acknowledged_by),
            )
            .order_by(Recall.status, Recall.opened_at.desc())
        )
    )


def notice_for(user: User, recall_id: int) -> RecallNotice | None:
    """The user's practice's notice of this recall, if it was sent one."""
    if user.practice_id is None:
        return None
    return db.session.scalar(
        select(RecallNotice).where(
            RecallNotice.recall_id == recall_id,
            RecallNotice.practice_id == user.practice_id,
            RecallNotice.first_notified_at.is_not(None),
        )
    )


def unacknowledged_count(user: User) -> int:
    if user.practice_id is None:
        return 0
    return db.session.scalar(unacknowledged_count_query(user.practice_id))


def unacknowledged_count_query(practice_id):
    """How many open recalls the practice `practice_id` (an id, or a parameter) was told of and
    has not acknowledged (a statement, so the header can ask it together with the cart's count)."""
    return (
        select(func.count())
        .select_from(RecallNotice)
        .join(Recall)
        .where(
            RecallNotice.practice_id == practice_id,
            RecallNotice.first_notified_at.is_not(None),
            RecallNotice.acknowledged_at.is_(None),
            Recall.status == RecallStatus.OPEN,
        )
    )


def open_notices_for_lots(practice_id: int, lot_ids: set[int]) -> list[RecallNotice]:
    """The practice's notices of open recalls of any of these lots (for an order's page)."""
    if not lot_ids:
        return []
    from_recalls = select(Recall.id).where(Recall.status == RecallStatus.OPEN, Recall.lots.any(Lot.id.in_(lot_ids)))
    return list(
        db.session.scalars(
            select(RecallNotice)
            .where(
                RecallNotice.practice_id == practice_id,
                RecallNotice.recall_id.in_(from_recalls),
                RecallNotice.first_notified_at.is_not(None),
            )
            .options(joinedload(RecallNotice.recall))
        )
    )


def acknowledge(user: User, notice: RecallNotice) -> RecallNotice:
    """The member confirms the practice received the notice and acted on it. Once: a second
    acknowledgement (by a colleague at the same moment) is told it was already given."""
    if not (user.is_verified(clock.today()) or user.was_verified()):
        raise NotEligible("Only a verified member of the practice can acknowledge a recall for it.")
    with unit_of_work():
        done = db.session.execute(
            update(RecallNotice)
            .where(RecallNotice.id == notice.id, RecallNotice.acknowledged_at.is_(None))
            .values(acknowledged_at=clock.now(), acknowledged_by_id=user.id)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            raise InvalidTransition("Your practice has already acknowledged this recall.")
        events.record_note(notice.recall, user, "acknowledged", f"{user.full_name} for {notice.practice.name}")
    db.session.refresh(notice)
    return notice
