"""A practice's terms with the shop: how it may pay (card when Stripe is set up, on account when
staff allow it), in how many days an invoice is due, and how much credit on account it has left."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from shop.accounts.models import Practice, User
from shop.core import audit
from shop.core.db import unit_of_work
from shop.errors import NotEligible
from shop.extensions import db
from shop.ordering.models import Order, OrderStatus, PaymentMethod
from shop.payments import gateway as stripe_gateway


def payment_methods(user: User) -> list[PaymentMethod]:
    methods = []
    if stripe_gateway.enabled():
        methods.append(PaymentMethod.CARD)
    if user.practice and user.practice.on_account:
        methods.append(PaymentMethod.ACCOUNT)
    return methods


def open_account_balance(practice_id: int) -> int:
    """What the practice owes on account: unsettled invoices of orders not cancelled or refunded."""
    return db.session.scalar(
        select(func.coalesce(func.sum(Order.total_cents), 0)).where(
            Order.practice_id == practice_id,
            Order.payment_method == PaymentMethod.ACCOUNT,
            Order.invoice_settled_at.is_(None),
            Order.status.not_in([OrderStatus.CANCELLED, OrderStatus.REFUNDED]),
        )
    )


def available_credit(user: User) -> int:
    practice = user.practice
    if practice is None or not practice.on_account:
        return 0
    return max(practice.credit_limit_cents - open_account_balance(practice.id), 0)


@dataclass(frozen=True)
class Terms:
    on_account: bool
    payment_terms_days: int
    credit_limit_cents: int


def set_terms(staff: User, practice: Practice, terms: Terms) -> Practice:
    """Staff decide whether the practice may pay on account, in how many days, up to what."""
    if not staff.is_staff:
        raise NotEligible("Only staff can change a practice's terms.")
    before = _terms_of(practice)
    with unit_of_work():
        practice.on_account = terms.on_account
        practice.payment_terms_days = terms.payment_terms_days
        practice.credit_limit_cents = terms.credit_limit_cents
        changes = audit.changed(before, _terms_of(practice))
        if changes:
            audit.record(staff, "practice.terms_changed", practice, changes, label=f"Practice {practice.name}")
    return practice


def _terms_of(practice: Practice) -> dict:
    return {
        "on_account": practice.on_account,
        "payment_terms_days": practice.payment_terms_days,
        "credit_limit_cents": practice.credit_limit_cents,
    }
