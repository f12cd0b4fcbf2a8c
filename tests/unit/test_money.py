"""The money filter: integer minor units in, an amount a person reads out."""

from __future__ import annotations

import pytest

from shop.core.formatting import money


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (12900, "$129.00"),
        (0, "$0.00"),
        (5, "$0.05"),
        (99, "$0.99"),
        (240000, "$2,400.00"),
        (123456789, "$1,234,567.89"),
        (-1250, "-$12.50"),
    ],
)
def test_cents_are_shown_in_dollars_by_default(cents, shown):
    assert money(cents) == shown


def test_the_shops_currency_comes_from_the_configuration(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "SHOP_CURRENCY", "EUR")
    assert money(12900) == "€129.00"
    monkeypatch.setitem(ctx.config, "SHOP_CURRENCY", "GBP")
    assert money(12900) == "£129.00"


def test_an_explicit_currency_wins_over_the_shops():
    assert money(12900, "EUR") == "€129.00"
    assert money(12900, "USD") == "$129.00"


def test_a_currency_without_minor_units_is_not_divided_by_a_hundred():
    assert money(12900, "JPY") == "¥12,900"


def test_a_currency_with_three_decimals_keeps_them():
    shown = money(12900, "KWD")
    assert shown.startswith("KWD") and shown.endswith("12.900")


def test_a_missing_amount_is_a_dash_not_zero():
    assert money(None) == "—"


def test_a_template_formats_a_price_with_the_money_filter(ctx):
    assert ctx.jinja_env.from_string("{{ 12900|money }}").render() == "$129.00"
