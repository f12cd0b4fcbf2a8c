"""A practice's terms with the shop, set by the customers desk: whether it may pay on account
(by invoice), in how many days an invoice is due, up to what credit, the discount it has off
list prices, and whether it may order at all (a suspension, with the reason its members are
told). Every change is an event of the practice with before → after, and an audit entry.

Changing terms is for administrators and for staff who work the customers desk; others see
them read-only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from shop.access import Desk
from shop.core import events
from shop.core.db import unit_of_work
from shop.core.formatting import money
from shop.core.pricing import percent
from shop.errors import NotEligible
from shop.practices.models import Practice, PracticeStatus

if TYPE_CHECKING:
    from shop.accounts.models import User

MAX_DISCOUNT_BPS = 9_000


@dataclass(frozen=True)
class Terms:
    on_account: bool
    payment_terms_days: int
    credit_limit_cents: int
    discount_bps: int = 0


def may_change_terms(staff: User) -> bool:
    return staff.is_staff and staff.works(Desk.CUSTOMERS)


def _require_desk(staff: User) -> None:
    if not may_change_terms(staff):
        raise NotEligible("Only the customers desk can change a practice's terms.")


def set_terms(staff: User, practice: Practice, terms: Terms) -> Practice:
    """Staff decide whether the practice may pay on account, in how many days, up to what, and
    its discount. Raises NotEligible for anyone without the customers desk, or a discount out
    of bounds."""
    _require_desk(staff)
    if not 0 <= terms.discount_bps <= MAX_DISCOUNT_BPS:
        raise NotEligible(f"A discount is between 0 and {percent(MAX_DISCOUNT_BPS)}%.", field="discount")
    before = terms_of(practice)
    with unit_of_work():
        practice.on_account = terms.on_account
        practice.payment_terms_days = terms.payment_terms_days
        practice.credit_limit_cents = terms.credit_limit_cents
        practice.discount_bps = terms.discount_bps
        after = terms_of(practice)
        changes = {field: (before[field], after[field]) for field in after if before[field] != after[field]}
        if changes:
            events.record_note(practice, staff, "terms_changed", describe(changes), changes=changes)
    return practice


def terms_of(practice: Practice) -> dict:
    return {
        "on_account": practice.on_account,
        "payment_terms_days": practice.payment_terms_days,
        "credit_limit_cents": practice.credit_limit_cents,
        "discount_bps": practice.discount_bps,
    }


LABELS = {
    "on_account": ("Pays on account", lambda v: "yes" if v else "no"),
    "payment_terms_days": ("Payment terms", lambda v: f"{v} days"),
    "credit_limit_cents": ("Credit limit", money),
    "discount_bps": ("Discount", lambda v: f"{percent(v)}%"),
}


def describe(changes: dict) -> str:
    """The changes as the history reads them: "Credit limit: $1,000.00 → $2,500.00; …"."""
    parts = []
    for field, (before, after) in changes.items():
        label, shown = LABELS[field]
        parts.append(f"{label}: {shown(before)} → {shown(after)}")
    return "; ".join(parts)


# --- suspension ----------------------------------------------------------------------------------


def suspend(staff: User, practice: Practice, reason: str) -> Practice:
    """Stop the practice ordering (and accepting quotes) until the suspension is lifted; its
    members still log in and see their history and invoices, and are told `reason`. Raises
    NotEligible (not the customers desk, no reason) or InvalidTransition (already suspended)."""
    _require_desk(staff)
    reason = (reason or "").strip()
    if not reason:
        raise NotEligible("Give the reason; the practice's members are told it.", field="reason")
    with unit_of_work():
        events.advance(practice, PracticeStatus.SUSPENDED, staff, "suspended", reason, suspension_reason=reason)
    return practice


def reinstate(staff: User, practice: Practice, note: str) -> Practice:
    """Lift the suspension: the practice orders again. Raises NotEligible or InvalidTransition."""
    _require_desk(staff)
    note = (note or "").strip()
    if not note:
        raise NotEligible("Say what was resolved, for the record.", field="note")
    with unit_of_work():
        events.advance(practice, PracticeStatus.ACTIVE, staff, "reinstated", note, suspension_reason="")
    return practice


def require_open(practice: Practice | None) -> None:
    """Raise NotEligible, saying why, when the practice may not order now (it is suspended)."""
    if practice is not None and practice.is_suspended:
        raise NotEligible(suspension_notice(practice))


def suspension_notice(practice: Practice) -> str:
    """What a member of a suspended practice is told wherever they would order."""
    phone = current_app.config["CUSTOMER_CARE_PHONE"]
    return (
        f"Ordering is suspended for {practice.name}: {practice.suspension_reason.rstrip('.')}. "
        f"Call customer care on {phone} to resolve it; your orders and invoices stay open to you."
    )
