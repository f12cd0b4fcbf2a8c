"""What a catalogue page costs the database: at most MOST_STATEMENTS statements for the listing,
a category, a filtered listing, a search (a misspelt one included) and a product page, and the same number for a
catalogue ten times the size (a full page, with a page count, and options, prices agreed and a
cart for the clinician looking). Times are measured by `make bench`, never here."""

from __future__ import annotations

import pytest

from shop.access import Desk
from shop.catalogue.price_lists import set_agreed_price
from shop.core.paging import CappedPagination
from tests.factories import fill_cart, make_clinician, make_product, make_staff, option
from tests.helpers import statements_during

MOST_STATEMENTS = 6
PAGES = {
    "listing": "/catalogue",
    "category": "/catalogue?category=skin-boosters",
    "filtered": "/catalogue?category=skin-boosters&lidocaine=1&in_stock=1&sort=price_asc",
    "search": "/catalogue?q=glow",
    "second page": "/catalogue?q=glow&page=2",
    "misspelt": "/catalogue?q=gloow+brandd",  # both words looked up at once, then searched again
    "product": "/catalogue/glow-0",
}


def add_products(start: int, count: int) -> None:
    for n in range(start, start + count):
        make_product(
            name=f"Glow {n}",
            slug=f"glow-{n}",
            sku=f"GLW-{n}",
            brand=f"Brand {n % 3}",
            options=[option(f"GLW-{n}-L", label="With lidocaine", price_cents=9000 + n, stock=5, lidocaine=True)],
        )


def cost(client, url: str) -> int:
    client.get(url)  # what a process keeps between requests (the filter panel) is kept
    response = None

    def visit():
        nonlocal response
        response = client.get(url)

    sent = statements_during(visit)
    assert response.status_code == 200, (url, response.status_code)
    return sent


@pytest.mark.parametrize("viewer", ["clinician", "staff"])
def test_catalogue_pages_cost_a_few_statements_whatever_the_catalogue_size(app, monkeypatch, signed_in, viewer):
    monkeypatch.setitem(app.config, "CATALOGUE_PAGE_SIZE", 4)
    monkeypatch.setattr(CappedPagination, "COUNT_FLOOR", 8)
    add_products(0, 9)  # two full pages and a bit
    if viewer == "clinician":
        person = make_clinician()
        set_agreed_price(make_staff(desks=[Desk.CUSTOMERS]), person.practice, "GLW-1", 100)
        fill_cart(person, ("GLW-2", 3))
    else:
        person = make_staff()
    client = signed_in(person)
    few = {label: cost(client, url) for label, url in PAGES.items()}
    assert "Did you mean" in client.get(PAGES["misspelt"]).get_data(as_text=True)
    assert max(few.values()) <= MOST_STATEMENTS, few

    add_products(9, 81)
    many = {label: cost(client, url) for label, url in PAGES.items()}
    assert many == few
