"""Set-up shared by the ordering tests: clinicians with a filled cart, practices allowed to pay
on account, extra delivery addresses, and orders placed through the checkout service or the
checkout page, the way a clinician would."""

from __future__ import annotations

import re

from shop.accounts.models import Address, User
from shop.cart import services as carts
from shop.extensions import db
from shop.ordering import checkout
from shop.ordering.models import Order, PaymentMethod
from tests.factories import make_clinician, make_product

TOTAL_FIELD = re.compile(r'name="expected_total" type="hidden" value="(-?\d+)"')
ADDRESS_OPTION = re.compile(r'<input[^>]*name="address_id"[^>]*value="(\d+)"[^>]*>\s*<label[^>]*>([^<]*)</label>')


def allow_account(user: User, credit_limit_cents: int = 1_000_000, terms_days: int = 30) -> None:
    """Staff have let the user's practice pay on account up to `credit_limit_cents`."""
    user.practice.on_account = True
    user.practice.credit_limit_cents = credit_limit_cents
    user.practice.payment_terms_days = terms_days
    db.session.commit()


def add_address(user: User, line1: str, line2: str = "", *, city: str = "Cork", postcode: str = "T12 PX00") -> Address:
    address = Address(line1=line1, line2=line2, city=city, region="Co. Cork", postcode=postcode, country="IE")
    user.practice.addresses.append(address)
    db.session.commit()
    return address


def fill_cart(user: User, *lines: tuple[str, int]) -> None:
    for sku, quantity in lines:
        carts.add_to_cart(user, sku, quantity)


def clinician_with_cart(*lines: tuple[str, int], account: bool = True, **clinician) -> User:
    user = make_clinician(**clinician)
    if account:
        allow_account(user)
    fill_cart(user, *lines)
    return user


def product(sku: str, *, price_cents: int = 10_000, stock: int = 20, name: str | None = None):
    return make_product(sku=sku, price_cents=price_cents, stock=stock, name=name or f"Booster {sku}").variants[0]


def place(
    user: User,
    *,
    method: PaymentMethod = PaymentMethod.ACCOUNT,
    address: Address | None = None,
    po_number: str = "",
    note: str = "",
    expected_total_cents: int | None = None,
) -> Order:
    """Check the cart out through the service, at the total the checkout page would show."""
    if expected_total_cents is None:
        expected_total_cents = carts.view_cart(user).totals.total_cents
    address_id = address.id if address is not None else user.practice.default_address.id
    return checkout.place_order(
        user,
        checkout.CheckoutRequest(
            address_id=address_id,
            payment_method=method,
            expected_total_cents=expected_total_cents,
            po_number=po_number,
            note=note,
        ),
    )


def checkout_page_values(html: str) -> tuple[str, list[tuple[str, str]]]:
    """The total the page asks to confirm, and the delivery addresses it offers (id, label)."""
    total = TOTAL_FIELD.search(html)
    assert total, "the checkout page carries no expected_total"
    return total.group(1), ADDRESS_OPTION.findall(html)


def post_checkout(browser, method: str = "account", **fields):
    """Load /checkout, then post it back as the page was shown, with `fields` on top."""
    page = browser.get("/checkout")
    assert page.status_code == 200, page.status_code
    total, addresses = checkout_page_values(page.get_data(as_text=True))
    data = {"address_id": addresses[0][0], "payment_method": method, "expected_total": total}
    data.update(fields)
    return browser.post("/checkout", {k: v for k, v in data.items() if v is not None})
