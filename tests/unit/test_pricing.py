"""The pricing module: volume prices, line totals, shipping and tax, all in integer cents."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shop.core.pricing import (
    PriceRules,
    discounted,
    line_total,
    percent_to_bps,
    shipping_for,
    tax_on,
    totals,
    totals_with_shipping,
    unit_price,
)

BREAKS = [(5, 9500), (10, 9000)]  # 1-4 packs at the base price, 5-9 at 95.00, 10+ at 90.00
RULES = PriceRules(shipping_flat_cents=1500, free_shipping_threshold_cents=50000, tax_rate_bps=2300)


# --- unit price and line totals ---------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price"),
    [(1, 10000), (4, 10000), (5, 9500), (9, 9500), (10, 9000), (11, 9000), (999, 9000)],
)
def test_the_unit_price_follows_the_volume_break_the_quantity_reaches(quantity, price):
    assert unit_price(10000, BREAKS, quantity) == price


def test_without_volume_breaks_every_quantity_pays_the_base_price():
    assert unit_price(12900, [], 1) == 12900
    assert unit_price(12900, [], 500) == 12900


def test_the_highest_break_reached_wins_whatever_order_the_breaks_come_in():
    assert unit_price(10000, list(reversed(BREAKS)), 12) == 9000
    assert unit_price(10000, list(reversed(BREAKS)), 7) == 9500


def test_a_break_from_one_pack_replaces_the_base_price():
    assert unit_price(10000, [(1, 9900)], 1) == 9900


def test_a_line_total_is_the_unit_price_times_the_quantity():
    assert line_total(9500, 7) == 66500
    assert line_total(1, 999) == 999
    assert line_total(240000, 999) == 239_760_000


# --- shipping ---------------------------------------------------------------------------


def test_shipping_is_the_flat_rate_below_the_free_shipping_threshold():
    assert shipping_for(1, RULES) == 1500
    assert shipping_for(49999, RULES) == 1500


def test_shipping_is_free_at_and_above_the_threshold():
    assert shipping_for(50000, RULES) == 0
    assert shipping_for(50001, RULES) == 0
    assert shipping_for(10_000_000, RULES) == 0


def test_an_empty_cart_pays_no_shipping():
    assert shipping_for(0, RULES) == 0
    empty = totals([], RULES)
    assert (empty.subtotal_cents, empty.shipping_cents, empty.tax_cents, empty.total_cents) == (0, 0, 0, 0)


def test_totals_below_the_threshold_add_shipping_and_tax_on_both():
    result = totals([12900, 2 * 5500], RULES)
    assert result.subtotal_cents == 23900
    assert result.shipping_cents == 1500
    assert result.tax_rate_bps == 2300
    assert result.tax_cents == 5842  # 23% of 254.00 = 58.42
    assert result.total_cents == 23900 + 1500 + 5842


def test_totals_at_the_threshold_ship_free():
    result = totals([30000, 20000], RULES)
    assert result.shipping_cents == 0 and result.subtotal_cents == 50000
    assert result.tax_cents == 11500
    assert result.total_cents == 61500


# --- tax --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rate_bps", "tax"),
    [
        (10000, 2300, 2300),
        (50, 1000, 5),  # exactly 5 cents
        (5, 1000, 1),  # 0.5 cent goes up
        (15, 1000, 2),  # 1.5 cents go up
        (25, 1000, 3),  # 2.5 cents go up too (not to the even cent)
        (4, 1000, 0),  # 0.4 cent goes down
        (14, 1000, 1),  # 1.4 cents go down
        (1, 5000, 1),  # half a cent on a single cent
        (21739, 2300, 5000),  # 4999.97 cents
        (2174, 2300, 500),  # 500.02 cents
        (100, 888, 9),  # 8.88 cents
        (12345, 0, 0),
        (12345, 10000, 12345),
    ],
)
def test_tax_is_rounded_half_up_to_the_cent(amount, rate_bps, tax):
    assert tax_on(amount, rate_bps) == tax


def test_tax_on_large_amounts_is_exact():
    # 23% of 12,345,678,901,234.50 is 2,839,506,147,283.935, which rounds up.
    assert tax_on(1_234_567_890_123_450, 2300) == 283_950_614_728_394
    # 8.88% of 99,999,999,999.94 is 887,999,999,999.4672 cents, which rounds down.
    assert tax_on(9_999_999_999_994, 888) == 887_999_999_999


def test_tax_is_rounded_once_on_the_order_not_line_by_line():
    # Three lines of 0.05 at 10% are 0.5 cent of tax each: rounded per line they would be
    # 3 cents, but on the order's 15 cents (and no shipping above the threshold) it is 2.
    rules = PriceRules(shipping_flat_cents=0, free_shipping_threshold_cents=0, tax_rate_bps=1000)
    result = totals([5, 5, 5], rules)
    assert result.tax_cents == 2
    assert result.total_cents == 17


def test_tax_is_charged_on_shipping_too():
    rules = PriceRules(shipping_flat_cents=1500, free_shipping_threshold_cents=50000, tax_rate_bps=2300)
    result = totals([1000], rules)
    assert result.tax_cents == tax_on(2500, 2300) == 575


def test_an_order_total_landing_on_half_a_cent_of_tax_rounds_up():
    # 2,250 + 1,500 shipping = 3,750 cents; 8.88% of that is 333.0 cents exactly ...
    rules = PriceRules(shipping_flat_cents=1500, free_shipping_threshold_cents=50000, tax_rate_bps=888)
    assert totals([2250], rules).tax_cents == 333
    # ... and 1,125 + 1,500 = 2,625 cents at 10% is 262.5 cents, which goes up to 263.
    rules = PriceRules(shipping_flat_cents=1500, free_shipping_threshold_cents=50000, tax_rate_bps=1000)
    result = totals([1125], rules)
    assert result.tax_cents == 263
    assert result.total_cents == 1125 + 1500 + 263


def test_large_orders_add_up_to_the_cent():
    lines = [line_total(239_999, 999)] * 200
    result = totals(lines, RULES)
    assert result.subtotal_cents == 239_999 * 999 * 200
    assert result.shipping_cents == 0
    assert result.subtotal_cents % 100 == 0
    assert result.tax_cents == result.subtotal_cents * 23 // 100
    assert result.total_cents == result.subtotal_cents + result.tax_cents


# --- tax rates from the configuration ---------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "bps"),
    [
        ("23", 2300),
        ("8.875", 888),  # 887.5 basis points, rounded half up
        ("8.874", 887),
        ("0", 0),
        ("100", 10000),
        ("23.0", 2300),
        (" 23 ", 2300),
        ("23%", 2300),
        (7, 700),
        (Decimal("13.5"), 1350),
        (8.25, 825),
    ],
)
def test_a_tax_rate_in_percent_becomes_basis_points(percent, bps):
    assert percent_to_bps(percent) == bps


@pytest.mark.parametrize(
    "percent", ["", "abc", "twenty", "-1", "-0.01", "100.01", "1e3", "NaN", "sNaN", "Infinity", "-inf", None, True]
)
def test_a_tax_rate_that_is_not_a_percentage_is_refused(percent):
    with pytest.raises(ValueError):
        percent_to_bps(percent)


def test_the_rules_come_from_the_configuration(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "SHIPPING_FLAT_CENTS", 995)
    monkeypatch.setitem(ctx.config, "FREE_SHIPPING_THRESHOLD_CENTS", 20000)
    monkeypatch.setitem(ctx.config, "TAX_RATE_PERCENT", "8.875")
    assert PriceRules.from_config() == PriceRules(
        shipping_flat_cents=995, free_shipping_threshold_cents=20000, tax_rate_bps=888
    )


# --- quotes: a discount per line, shipping and tax set by the desk ---------------------------


@pytest.mark.parametrize(
    ("price", "discount_bps", "expected"),
    [
        (999, 5_000, 500),  # 4.995 rounds half up
        (10_000, 1_500, 8_500),
        (1, 3_333, 1),  # 0.6667 of a cent
        (12_345, 0, 12_345),
        (12_345, 10_000, 0),
    ],
)
def test_a_discounted_price_is_rounded_half_up_to_the_cent(price, discount_bps, expected):
    assert discounted(price, discount_bps) == expected


def test_totals_with_the_desks_shipping_charge_tax_goods_and_shipping_once():
    result = totals_with_shipping([8_333, 4_167], 1_001, 2_300)

    assert result.subtotal_cents == 12_500
    assert result.shipping_cents == 1_001
    assert result.tax_cents == 3_105  # 23 % of 135.01 = 31.0523
    assert result.total_cents == 12_500 + 1_001 + 3_105


def test_a_quote_may_ship_free_below_the_carts_threshold():
    assert totals_with_shipping([100], 0, 2_300).total_cents == 123
