"""Template filters and globals: money, dates in the shop's time zone, country names."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency, get_currency_precision
from flask import Flask, current_app

from shop import clock
from shop.access import is_verified_clinician
from shop.mailer import shop_details


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


def register(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(country_name, "country_name")

    @app.context_processor
    def shop_context():
        from flask_login import current_user

        return {
            "shop": shop_details(),
            "shop_currency": app.config["SHOP_CURRENCY"],
            "shop_market": app.config["SHOP_MARKET"],
            "user_is_verified": is_verified_clinician(current_user) if current_user else False,
        }
