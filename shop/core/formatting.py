"""How amounts, dates and countries read for people, in pages, emails and documents alike."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, get_currency_precision
from flask import current_app

from shop import clock


def money(cents: int | None, currency: str | None = None) -> str:
    """Integer minor units to a localised amount, e.g. 12345 -> $123.45."""
    if cents is None:
        return "—"
    return _formatted(cents, currency or current_app.config["SHOP_CURRENCY"], current_app.config["SHOP_LOCALE"])


@lru_cache(maxsize=8192)
def _formatted(cents: int, currency: str, locale: str) -> str:
    """Babel's formatting, once per amount: a listing shows dozens of prices, the same every time."""
    amount = Decimal(cents).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=locale)


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 practice", "3 practices" (or `words` where the plural is not word + s)."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


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


_LINE_BREAKS = re.compile(r"[\t\r\n\v\f\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """The text on one line: every run of line breaks and tabs becomes a single space."""
    return _LINE_BREAKS.sub(" ", text)
