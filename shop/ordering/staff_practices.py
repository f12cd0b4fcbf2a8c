"""What the orders desk adds to a practice's page in the back office: what it owes on account,
the credit it has left, and its orders."""

from __future__ import annotations

from shop.ordering import credit
from shop.practices.models import Practice
from shop.practices.staff_panels import Panel, panel


@panel(position=20)
def _account(practice: Practice) -> Panel:
    balance = credit.open_account_balance(practice.id)
    return Panel(
        "Account",
        "staff/practices/_account.html",
        {"balance": balance, "available": max(practice.credit_limit_cents - balance, 0)},
    )
