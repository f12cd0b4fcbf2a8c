"""A practice's terms with the shop, set by the customers desk: whether it may pay on account
(by invoice), in how many days an invoice is due, and up to what credit. Every change is an
event of the practice with before → after, and an audit entry.

Changing terms is for administrators and for staff who work the customers desk; others see
them read-only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shop.access import Desk
from shop.core import events
from shop.core.db import unit_of_work
from shop.core.formatting import money
from shop.errors import NotEligible
from shop.practices.models import Practice

if TYPE_CHECKING:
    from shop.accounts.models import User


@dataclass(frozen=True)
class Terms:
    on_account: bool
    payment_terms_days: int
    credit_limit_cents: int


def may_change_terms(staff: User) -> bool:
    return staff.is_staff and staff.works(Desk.CUSTOMERS)


def set_terms(staff: User, practice: Practice, terms: Terms) -> Practice:
    """Staff decide whether the practice may pay on account, in how many days, up to what.
    Raises NotEligible for anyone without the customers desk."""
    if not may_change_terms(staff):
        raise NotEligible("Only the customers desk can change a practice's terms.")
    before = terms_of(practice)
    with unit_of_work():
        practice.on_account = terms.on_account
        practice.payment_terms_days = terms.payment_terms_days
        practice.credit_limit_cents = terms.credit_limit_cents
        changes = {field: pair for field, pair in _changed(before, terms_of(practice)).items()}
        if changes:
            events.record_note(practice, staff, "terms_changed", describe(changes), changes=changes)
    return practice


def terms_of(practice: Practice) -> dict:
    return {
        "on_account": practice.on_account,
        "payment_terms_days": practice.payment_terms_days,
        "credit_limit_cents": practice.credit_limit_cents,
    }


def _changed(before: dict, after: dict) -> dict:
    return {field: (before[field], after[field]) for field in after if before[field] != after[field]}


LABELS = {
    "on_account": ("Pays on account", lambda v: "yes" if v else "no"),
    "payment_terms_days": ("Payment terms", lambda v: f"{v} days"),
    "credit_limit_cents": ("Credit limit", money),
}


def describe(changes: dict) -> str:
    """ "Credit limit: $1,000.00 → $2,500.00; Payment terms: 30 days → 45 days"."""
    parts = []
    for field, (before, after) in changes.items():
        label, shown = LABELS[field]
        parts.append(f"{label}: {shown(before)} → {shown(after)}")
    return "; ".join(parts)
