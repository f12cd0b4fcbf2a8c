"""The cart as a clinician uses it: adding from the product page and a listing, the lines with
their prices and availability, quantities and volume prices, a cart kept in the database, lines
flagged when a product or a price changes (and checkout refused until they are resolved), and
bad input that never breaks the page."""

from __future__ import annotations

import re

import pytest

from shop.accounts.models import User
from shop.cart.models import CartLine
from shop.catalogue.models import ProductStatus, Variant
from shop.extensions import db
from shop.ordering.models import Order
from tests.factories import make_clinician, variant_with_breaks
from tests.helpers import (
    add_to_cart,
    cart_rows,
    change,
    flashes,
    placed_order_number,
    post_checkout,
    redirect_path,
    reload,
    row_count,
    text,
    totals_of,
)


def line_id(user: User, variant: Variant) -> int:
    db.session.rollback()
    return db.session.scalar(
        db.select(CartLine.id).where(CartLine.user_id == user.id, CartLine.variant_id == variant.id)
    )


def checkout_refused(browser, user: User) -> None:
    """Neither the checkout page nor a direct POST to it lets the order through."""
    page = browser.get("/checkout")
    assert page.status_code in (302, 303) and redirect_path(page) == "/cart"
    said = [message for _, message in flashes(browser.get("/cart"))]
    # A shortage names the line and what is left; any other problem points to the flagged lines.
    assert any("need your attention" in message or "Your cart is kept" in message for message in said), said
    address = user.practice.addresses[0].id
    for total in ("0", "999999"):
        response = browser.post(
            "/checkout", {"address_id": str(address), "payment_method": "account", "expected_total": total}
        )
        assert response.status_code in (302, 303) and redirect_path(response) == "/cart"
    assert row_count(Order) == 0


@pytest.fixture
def clinician():
    return make_clinician(on_account=True)


@pytest.fixture
def browser(signed_in, clinician):
    return signed_in(clinician)


# --- adding -----------------------------------------------------------------------------


def test_a_clinician_adds_a_variant_from_the_product_page_and_finds_it_in_the_cart(browser):
    variant = variant_with_breaks(price_cents=12900, name="Hydra Boost")
    page = browser.get(f"/catalogue/{variant.product.slug}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/cart/add".*?</form>', page, re.S)
    assert form and f'name="sku" value="{variant.sku}"' in form.group(0)
    back = re.search(r'name="next" value="([^"]+)"', form.group(0)).group(1)

    response = add_to_cart(browser, variant.sku, 2, next=back)
    assert response.status_code == 303 and redirect_path(response) == f"/catalogue/{variant.product.slug}"
    product_page = browser.get(back)
    assert ("success", f"Added 2 × Hydra Boost ({variant.sku}) to your cart.") in flashes(product_page)
    assert re.search(r'class="cart-count">2<', product_page.get_data(as_text=True))

    [row] = cart_rows(browser.get("/cart"))
    assert "Hydra Boost" in row["Product"] and variant.sku in row["Product"]
    assert row["Unit price"].startswith("$129.00")
    assert row["Line total"] == "$258.00"
    assert row["Availability"] == "In stock"
    assert row["quantity"] == "2"
    assert not row["marked"]


def test_adding_from_a_listing_returns_to_the_same_listing(browser):
    variant = variant_with_breaks()
    listing = "/catalogue?category=skin-boosters&page=1"
    response = add_to_cart(browser, variant.sku, 3, next=listing)
    assert response.status_code == 303 and redirect_path(response) == listing
    assert cart_rows(browser.get("/cart"))[0]["quantity"] == "3"


def test_the_catalogue_listing_offers_add_to_cart_for_a_product_with_one_option(browser):
    variant = variant_with_breaks(name="Listing Booster")
    html = browser.get("/catalogue").get_data(as_text=True)
    forms = re.findall(r'<form[^>]*action="/cart/add".*?</form>', html, re.S)
    assert any(f'value="{variant.sku}"' in form and 'name="quantity"' in form for form in forms)


def test_adding_again_adds_to_the_same_line(browser):
    variant = variant_with_breaks()
    add_to_cart(browser, variant.sku, 2)
    add_to_cart(browser, variant.sku.lower(), 1)
    [row] = cart_rows(browser.get("/cart"))
    assert row["quantity"] == "3"


def test_without_a_safe_next_page_adding_goes_to_the_cart(browser):
    variant = variant_with_breaks()
    for target in ("https://evil.example/", "//evil.example/cart", "/\\evil.example", "javascript:alert(1)"):
        response = add_to_cart(browser, variant.sku, 1, next=target)
        assert response.status_code == 303 and redirect_path(response) == "/cart"


def test_the_cart_shows_subtotal_shipping_tax_and_total(browser):
    variant = variant_with_breaks(price_cents=12900)
    add_to_cart(browser, variant.sku, 1)
    page = browser.get("/cart")
    assert totals_of(page) == {
        "Subtotal": "$129.00",
        "Shipping": "$15.00",
        "VAT (23%)": "$33.12",
        "Total": "$177.12",
    }
    assert "Free shipping from $500.00" in text(page)

    add_to_cart(browser, variant.sku, 3)  # 4 x 129.00 = 516.00
    page = browser.get("/cart")
    assert totals_of(page) == {"Subtotal": "$516.00", "Shipping": "Free", "VAT (23%)": "$118.68", "Total": "$634.68"}


def test_an_empty_cart_says_so_and_offers_no_checkout(browser):
    page = browser.get("/cart")
    assert "Your cart is empty" in text(page)
    assert "Check out" not in text(page)
    assert cart_rows(page) == []


# --- quantities, volume prices, removing ------------------------------------------------


def test_volume_prices_apply_when_the_quantity_crosses_a_break_and_back(browser, clinician):
    variant = variant_with_breaks(price_cents=10000)
    add_to_cart(browser, variant.sku, 4)
    line = line_id(clinician, variant)
    page = browser.get("/cart")
    assert "5+ packs: $95.00 each" in text(page)

    seen = []
    for quantity in (5, 10, 9, 4):
        response = browser.post(f"/cart/lines/{line}", {"quantity": str(quantity)})
        assert response.status_code == 303
        [row] = cart_rows(browser.get("/cart"))
        seen.append((row["quantity"], row["Unit price"].split()[0], row["Line total"], row["marked"]))
    assert seen == [
        ("5", "$95.00", "$475.00", False),
        ("10", "$90.00", "$900.00", False),
        ("9", "$95.00", "$855.00", False),
        ("4", "$100.00", "$400.00", False),
    ]
    assert "prices changed" not in text(browser.get("/cart"))


def test_a_quantity_of_zero_removes_the_line(browser, clinician):
    variant = variant_with_breaks()
    add_to_cart(browser, variant.sku, 2)
    response = browser.post(f"/cart/lines/{line_id(clinician, variant)}", {"quantity": "0"}, follow_redirects=True)
    assert "Your cart is empty" in text(response)
    assert row_count(CartLine) == 0


def test_the_remove_button_removes_only_its_line(browser, clinician):
    first, second = variant_with_breaks(name="First Booster"), variant_with_breaks(name="Second Booster")
    add_to_cart(browser, first.sku, 1)
    add_to_cart(browser, second.sku, 1)
    response = browser.post(f"/cart/lines/{line_id(clinician, first)}/remove", follow_redirects=True)
    assert ("success", "The line is removed from your cart.") in flashes(response)
    rows = cart_rows(response)
    assert len(rows) == 1 and "Second Booster" in rows[0]["Product"]


def test_raising_a_quantity_above_the_stock_is_refused_with_what_is_left(browser, clinician):
    variant = variant_with_breaks(stock=6)
    add_to_cart(browser, variant.sku, 2)
    response = browser.post(f"/cart/lines/{line_id(clinician, variant)}", {"quantity": "7"}, follow_redirects=True)
    assert any("Only 6" in message for kind, message in flashes(response) if kind == "error")
    assert cart_rows(response)[0]["quantity"] == "2"


def test_adding_more_than_is_in_stock_is_refused(browser):
    variant = variant_with_breaks(stock=3)
    response = add_to_cart(browser, variant.sku, 4, next=f"/catalogue/{variant.product.slug}")
    assert redirect_path(response) == f"/catalogue/{variant.product.slug}"
    assert any(f"Only 3 of {variant.sku}" in message for _, message in flashes(browser.get("/cart")))
    assert row_count(CartLine) == 0


# --- kept in the database ---------------------------------------------------------------


def test_the_cart_survives_logging_out_and_in_again(browser, clinician):
    variant = variant_with_breaks()
    add_to_cart(browser, variant.sku, 3)
    browser.logout()
    assert redirect_path(browser.get("/cart")).startswith("/login")
    browser.login(clinician.email, "Velvet-harbour-lantern-42")
    assert cart_rows(browser.get("/cart"))[0]["quantity"] == "3"


def test_the_cart_shows_in_another_browser(browser, clinician, signed_in):
    variant = variant_with_breaks()
    add_to_cart(browser, variant.sku, 3)
    other_browser = signed_in(clinician)
    assert cart_rows(other_browser.get("/cart"))[0]["quantity"] == "3"
    add_to_cart(other_browser, variant.sku, 1)
    assert cart_rows(browser.get("/cart"))[0]["quantity"] == "4"


def test_two_clinicians_have_separate_carts(browser, signed_in):
    variant = variant_with_breaks(name="Shared Booster")
    other = variant_with_breaks(name="Other Booster")
    colleague = signed_in(make_clinician(full_name="Dr Sam Byrne"))
    add_to_cart(browser, variant.sku, 2)
    add_to_cart(colleague, other.sku, 5)
    mine, theirs = cart_rows(browser.get("/cart")), cart_rows(colleague.get("/cart"))
    assert len(mine) == 1 and "Shared Booster" in mine[0]["Product"] and mine[0]["quantity"] == "2"
    assert len(theirs) == 1 and "Other Booster" in theirs[0]["Product"] and theirs[0]["quantity"] == "5"


# --- flagged lines ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message", "availability"),
    [
        ({"active": False}, "This product is no longer sold.", "Discontinued"),
        ({"stock_on_hand": 0}, "Out of stock.", "Out of stock"),
        ({"stock_on_hand": 2}, "Only 2 in stock; lower the quantity.", "Only 2 left"),
    ],
)
def test_a_variant_that_became_unavailable_is_flagged_and_blocks_checkout(
    browser, clinician, values, message, availability
):
    variant = variant_with_breaks(stock=50)
    add_to_cart(browser, variant.sku, 3)
    change(variant, **values)
    page = browser.get("/cart")
    [row] = cart_rows(page)
    assert row["marked"] and message in row["Product"] and row["Availability"] == availability
    assert "Some lines cannot be ordered as they are" in text(page)
    assert "Resolve the marked lines first." in text(page)
    assert 'href="/checkout"' not in page.get_data(as_text=True)
    checkout_refused(browser, clinician)


def test_a_deactivated_product_is_flagged(browser, clinician):
    variant = variant_with_breaks()
    add_to_cart(browser, variant.sku, 1)
    variant.product.status = ProductStatus.RETIRED
    db.session.commit()
    [row] = cart_rows(browser.get("/cart"))
    assert row["marked"] and "no longer sold" in row["Product"] and row["Availability"] == "Discontinued"
    checkout_refused(browser, clinician)


def test_a_product_no_longer_cleared_for_the_market_is_flagged(browser, clinician):
    variant = variant_with_breaks()
    add_to_cart(browser, variant.sku, 1)
    variant.product.status_in("EU").sale_permitted = False
    db.session.commit()
    [row] = cart_rows(browser.get("/cart"))
    assert row["marked"] and "not cleared for sale in our market (EU)" in row["Product"]
    checkout_refused(browser, clinician)


def test_a_changed_price_is_flagged_with_the_old_one_and_checkout_waits_for_acceptance(browser, clinician):
    variant = variant_with_breaks(price_cents=10000)
    add_to_cart(browser, variant.sku, 2)
    change(variant, price_cents=11500)

    page = browser.get("/cart")
    [row] = cart_rows(page)
    assert row["marked"]
    assert row["Unit price"].startswith("$115.00 Price changed: was $100.00")
    assert row["Line total"] == "$230.00"
    assert "Some prices changed since you added the products" in text(page)
    checkout_refused(browser, clinician)

    shown = re.search(r'name="shown" value="([^"]*)"', page.get_data(as_text=True)).group(1)
    response = browser.post("/cart/accept-prices", {"shown": shown}, follow_redirects=True)
    assert ("success", "Your cart now uses the current prices.") in flashes(response)
    [row] = cart_rows(response)
    assert not row["marked"] and row["Unit price"].startswith("$115.00") and "was" not in row["Unit price"]

    number = placed_order_number(post_checkout(browser))
    order = Order.query.filter_by(number=number).one()
    assert [(line.unit_price_cents, line.line_total_cents) for line in order.lines] == [(11500, 23000)]


def test_a_changed_volume_price_is_flagged(browser, clinician):
    variant = variant_with_breaks(price_cents=10000)
    add_to_cart(browser, variant.sku, 6)
    fresh = reload(Variant, variant.id)
    fresh.price_breaks[0].unit_price_cents = 9800
    db.session.commit()
    [row] = cart_rows(browser.get("/cart"))
    assert row["marked"] and row["Unit price"].startswith("$98.00 Price changed: was $95.00")
    checkout_refused(browser, clinician)


def test_a_price_that_moves_again_after_the_page_was_shown_is_not_accepted(browser, clinician):
    variant = variant_with_breaks(price_cents=10000)
    add_to_cart(browser, variant.sku, 2)
    change(variant, price_cents=11000)
    shown = re.search(r'name="shown" value="([^"]*)"', browser.get("/cart").get_data(as_text=True)).group(1)
    change(variant, price_cents=13000)
    response = browser.post("/cart/accept-prices", {"shown": shown}, follow_redirects=True)
    assert any("A price changed again" in message for kind, message in flashes(response) if kind == "error")
    [row] = cart_rows(response)
    assert row["marked"] and row["Unit price"].startswith("$130.00 Price changed: was $100.00")


def test_removing_the_unavailable_lines_clears_the_way_to_checkout(browser, clinician):
    good = variant_with_breaks(name="Good Booster")
    gone = variant_with_breaks(name="Gone Booster")
    short = variant_with_breaks(name="Short Booster")
    for variant in (good, gone, short):
        add_to_cart(browser, variant.sku, 3)
    change(gone, active=False)
    change(short, stock_on_hand=1)
    response = browser.post("/cart/remove-unavailable", follow_redirects=True)
    assert ("success", "Removed 2 lines that cannot be ordered.") in flashes(response)
    rows = cart_rows(response)
    assert len(rows) == 1 and "Good Booster" in rows[0]["Product"] and not rows[0]["marked"]
    assert browser.get("/checkout").status_code == 200
    placed_order_number(post_checkout(browser))
    assert row_count(Order) == 1


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["abc", "", " ", "-1", "0", "1.5", "2,5", "1e3", "1000", "9" * 30, "0x10", "½"])
def test_a_bad_quantity_when_adding_is_refused_with_a_message(browser, quantity):
    variant = variant_with_breaks(stock=5000)
    response = add_to_cart(browser, variant.sku, quantity)
    assert response.status_code == 303
    messages = flashes(browser.get("/cart"))
    assert any(kind == "error" and "Quantity" in message for kind, message in messages), messages
    assert row_count(CartLine) == 0


@pytest.mark.parametrize(
    "sku", ["", "NOPE-1", "X" * 10_000, "TST\x00-1", "<script>alert(1)</script>", "' OR 1=1 --", "\u202eRSB"]
)
def test_an_odd_sku_when_adding_is_refused_with_a_message(browser, sku):
    variant_with_breaks()
    response = add_to_cart(browser, sku, 1)
    assert response.status_code == 303
    page = browser.get("/cart")
    assert any(kind == "error" for kind, _ in flashes(page))
    assert "<script>alert(1)" not in page.get_data(as_text=True)
    assert row_count(CartLine) == 0


@pytest.mark.parametrize("quantity", ["abc", "", "-1", "1000", "2.5", "9" * 30])
def test_a_bad_quantity_when_changing_a_line_leaves_it_as_it_was(browser, clinician, quantity):
    variant = variant_with_breaks()
    add_to_cart(browser, variant.sku, 2)
    response = browser.post(f"/cart/lines/{line_id(clinician, variant)}", {"quantity": quantity}, follow_redirects=True)
    assert response.status_code == 200
    assert any(kind == "error" for kind, _ in flashes(response))
    assert cart_rows(response)[0]["quantity"] == "2"


def test_someone_elses_cart_line_cannot_be_changed_or_removed(browser, signed_in):
    variant = variant_with_breaks()
    other = make_clinician()
    add_to_cart(signed_in(other), variant.sku, 2)
    theirs = line_id(other, variant)
    for url, data in ((f"/cart/lines/{theirs}", {"quantity": "9"}), (f"/cart/lines/{theirs}/remove", {})):
        response = browser.post(url, data, follow_redirects=True)
        assert response.status_code == 200
        assert ("error", "That line is no longer in your cart.") in flashes(response)
    assert reload(CartLine, theirs).quantity == 2


@pytest.mark.parametrize("line", ["4294967296", "2147483648", "99999999999999999999999", "-1", "0", "abc", "1.5"])
def test_line_ids_that_cannot_exist_are_not_found(browser, line):
    assert browser.post(f"/cart/lines/{line}", {"quantity": "1"}).status_code == 404
    assert browser.post(f"/cart/lines/{line}/remove").status_code == 404


def test_a_line_id_within_range_but_unknown_is_reported(browser):
    response = browser.post("/cart/lines/2147483647", {"quantity": "1"}, follow_redirects=True)
    assert ("error", "That line is no longer in your cart.") in flashes(response)


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/cart/add", {"quantity": "1"}),
        ("/cart/lines/{line}", {"quantity": "0"}),
        ("/cart/lines/{line}/remove", {}),
        ("/cart/accept-prices", {}),
        ("/cart/remove-unavailable", {}),
        ("/cart/quick-order", {"lines": "{sku} 3"}),
    ],
)
def test_a_form_without_its_csrf_token_changes_nothing(browser, clinician, url, data):
    variant, gone = variant_with_breaks(), variant_with_breaks()
    add_to_cart(browser, variant.sku, 2)
    add_to_cart(browser, gone.sku, 1)
    change(variant, price_cents=12000)  # a price to accept
    change(gone, active=False)  # a line to remove as unavailable
    line = line_id(clinician, variant)
    data = {name: value.format(sku=variant.sku) for name, value in data.items()}
    data.setdefault("sku", variant.sku)
    response = browser.post(url.format(line=line), data, csrf=False)
    assert response.status_code in (303, 400)
    fresh = reload(CartLine, line)
    assert (fresh.quantity, fresh.seen_unit_price_cents) == (2, 10000)
    assert row_count(CartLine) == 2


def test_cart_actions_are_post_only(browser):
    for url in ("/cart/add", "/cart/accept-prices", "/cart/remove-unavailable", "/cart/quick-order", "/cart/lines/1"):
        assert browser.get(url).status_code == 405
