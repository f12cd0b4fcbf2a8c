"""How a practice may pay (card when Stripe is set up, on account when its terms allow it and
nothing is overdue), and how much credit on account it has left: its limit less what it owes
on invoices and on orders not invoiced yet. The terms themselves are in shop.practices.terms."""

from __future__ import annotations

from sqlalchemy import exists, func, select

from shop import clock
from shop.accounts.models import User
from shop.extensions import db
from shop.invoicing import balances
from shop.invoicing.models import Invoice
from shop.ordering.models import Order, OrderStatus, PaymentMethod
from shop.payments import gateway as stripe_gateway


def payment_methods(user: User) -> list[PaymentMethod]:
    """Card when Stripe is set up; on account when the practice's terms allow it and it has no
    overdue invoice (it pays by card until it has paid)."""
    methods = []
    if stripe_gateway.enabled():
        methods.append(PaymentMethod.CARD)
    practice = user.practice
    if practice and practice.on_account and not balances.has_overdue(practice.id, clock.today()):
        methods.append(PaymentMethod.ACCOUNT)
    return methods


def account_blocked_by_overdue(user: User) -> bool:
    """Whether the practice would pay on account but for an overdue invoice."""
    practice = user.practice
    return bool(practice and practice.on_account and balances.has_overdue(practice.id, clock.today()))


def uninvoiced_on_account() -> list:
    """The conditions of an order on account that counts against the credit but has no invoice
    yet: placed (or on hold), not cancelled or refunded, not paid under the old scheme."""
    return [
        Order.payment_method == PaymentMethod.ACCOUNT,
        Order.invoice_settled_at.is_(None),
        Order.status.not_in([OrderStatus.CANCELLED, OrderStatus.REFUNDED]),
        ~exists().where(Invoice.order_id == Order.id),
    ]


def open_account_balance(practice_id: int) -> int:
    """What the practice owes, and has promised to owe: its invoices' balance (less credit notes
    and payments) and its orders on account not invoiced yet."""
    pending = select(func.coalesce(func.sum(Order.total_cents), 0)).where(
        Order.practice_id == practice_id, *uninvoiced_on_account()
    )
    return db.session.scalar(select(balances.balance_of(practice_id) + pending.scalar_subquery()))


def available_credit(user: User) -> int:
    practice = user.practice
    if practice is None or not practice.on_account:
        return 0
    return max(practice.credit_limit_cents - open_account_balance(practice.id), 0)
