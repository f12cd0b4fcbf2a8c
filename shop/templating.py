"""Template filters and globals: money, dates in the shop's time zone, country names."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency, get_currency_precision
from flask import Flask, current_app
from sqlalchemy import func, select

from shop import clock
from shop.access import is_verified_clinician
from shop.accounts.licences import ApplicationAction, ApplicationStatus
from shop.cart.models import CartLine
from shop.core import limits
from shop.core.mailer import shop_details
from shop.core.outbox import MailStatus
from shop.core.pricing import percent
from shop.extensions import db
from shop.ordering.models import ORDER_EVENT_LABELS, OrderAction, OrderStatus, PaymentMethod
from shop.quoting.models import QUOTE_EVENT_LABELS, QuoteAction, QuoteStatus


def money(cents: int | None, currency: str | None = None) -> str:
    """Integer minor units to a localised amount, e.g. 12345 -> $123.45."""
    if cents is None:
        return "—"
    currency = currency or current_app.config["SHOP_CURRENCY"]
    amount = Decimal(cents).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=current_app.config["SHOP_LOCALE"])


def local_datetime(moment: datetime | None, fmt: str = "%d %b %Y, %H:%M") -> str:
    if moment is None:
        return ""
    return clock.local(moment).strftime(fmt)


def long_date(day: date | None) -> str:
    return day.strftime("%d %b %Y") if day else ""


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return Locale.parse(current_app.config["SHOP_LOCALE"]).territories.get(code.upper(), code)


def cart_count(user) -> int:
    """Packs in the user's cart, for the header."""
    return db.session.scalar(select(func.coalesce(func.sum(CartLine.quantity), 0)).where(CartLine.user_id == user.id))


def register(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(country_name, "country_name")
    app.jinja_env.globals["event_labels"] = ORDER_EVENT_LABELS
    app.jinja_env.globals["quote_event_labels"] = QUOTE_EVENT_LABELS
    # Templates compare a record's status and offered actions with these, never with strings.
    for enum in (
        ApplicationAction,
        ApplicationStatus,
        MailStatus,
        OrderAction,
        OrderStatus,
        PaymentMethod,
        QuoteAction,
        QuoteStatus,
    ):
        app.jinja_env.globals[enum.__name__] = enum
    app.jinja_env.globals["limits"] = limits

    @app.context_processor
    def shop_context():
        from flask_login import current_user

        verified = is_verified_clinician(current_user) if current_user else False
        return {
            "cart_count": cart_count(current_user) if verified else 0,
            "shop": shop_details(),
            "shop_currency": app.config["SHOP_CURRENCY"],
            "shop_market": app.config["SHOP_MARKET"],
            "user_is_verified": verified,
        }
