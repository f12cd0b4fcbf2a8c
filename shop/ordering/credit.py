"""How a practice may pay (card when Stripe is set up, on account when its terms allow it), and
how much credit on account it has left. The terms themselves are in shop.practices.terms."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.accounts.models import User
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
