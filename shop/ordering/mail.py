"""The emails of the order flow: to the orders desk and to the clinician, through the outbox.
Each function queues its messages in the caller's transaction."""

from __future__ import annotations

from flask import current_app

from shop.core.outbox import Correspondence
from shop.ordering.models import Order
from shop.urls import external_url


def correspondence(order: Order, **context) -> Correspondence:
    """The mail about `order` between the orders desk and its clinician, with the links every
    message about an order carries and any more `context`."""
    return Correspondence(
        desk=current_app.config["ORDERS_DESK_EMAIL"],
        clinician=order.clinician_email,
        desk_subject=f"{order.number} {{}}",
        clinician_subject=f"{{}} ({order.number})",
        context={
            "order": order,
            "order_link": external_url("orders.detail", number=order.number),
            "staff_link": external_url("staff.order", number=order.number),
            **context,
        },
    )


def _to_desk(order: Order, kind: str, subject: str, template: str, **context) -> None:
    correspondence(order).to_desk(kind, subject, template, reply_to=order.clinician_email, **context)


def _to_clinician(order: Order, kind: str, subject: str, template: str, **context) -> None:
    correspondence(order).to_clinician(kind, subject, template, **context)


def email_order_placed(order: Order) -> None:
    _to_desk(
        order,
        "order.placed.desk",
        f"new order from {order.practice_name} ({order.payment_method.label}, {order.status.label.lower()})",
        "order_desk",
        headline="A new order was placed.",
    )
    _to_clinician(order, "order.placed", "Thank you for your order", "order_confirmation")


def email_payment_received(order: Order) -> None:
    _to_clinician(order, "order.paid", "Payment received", "order_paid")
    _to_desk(
        order,
        "order.paid.desk",
        f"paid by card ({order.practice_name})",
        "order_desk",
        headline="Card payment received. The order is ready to be confirmed.",
    )


def email_payment_failed(order: Order) -> None:
    _to_clinician(order, "order.payment_failed", "Your payment did not go through", "order_payment_failed")


def email_order_cancelled(order: Order, reason: str, reopened_quote: str = "") -> None:
    _to_clinician(
        order,
        "order.cancelled",
        "Your order was cancelled",
        "order_cancelled",
        reason=reason,
        reopened_quote=reopened_quote,
    )
    _to_desk(
        order,
        "order.cancelled.desk",
        f"cancelled ({order.practice_name})",
        "order_desk",
        headline=f"The order was cancelled: {reason}"
        + (f" Quote {reopened_quote} is open again." if reopened_quote else ""),
    )


def alert_desk(order: Order, problem: str) -> None:
    """A payment problem the orders desk must look at (amount mismatch, payment after cancellation)."""
    _to_desk(
        order,
        "order.alert",
        f"NEEDS ATTENTION: {problem}",
        "order_desk",
        headline=f"Needs attention: {problem}",
        alert=True,
    )


def email_payment_link(order: Order, pay_link: str | None) -> None:
    """The card payment link of an order the desk keyed in (None: Stripe could not be reached,
    so the clinician pays from the order's page)."""
    _to_clinician(order, "order.payment_link", "Pay for your order by card", "order_payment_link", pay_link=pay_link)
