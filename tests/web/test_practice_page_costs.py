"""The pages of practices and invoices cost the same number of SQL statements whether a practice
has a few members and invoices or many."""

from __future__ import annotations

from shop.access import Desk
from tests.factories import invoiced_order, make_clinician, make_finance_clerk, make_staff
from tests.helpers import statements_during


def test_the_practice_page_and_the_invoices_page_cost_the_same_for_many_members_and_invoices(signed_in):
    owner = make_clinician(on_account=True)
    invoiced_order(owner)
    browser = signed_in(owner)
    browser.get("/practice")
    few = {url: statements_during(lambda url=url: browser.get(url)) for url in ("/practice", "/invoices")}

    for n in range(5):
        colleague = make_clinician(practice_of=owner, email=f"colleague{n}@clinic.example")
        invoiced_order(colleague, lines=((f"MORE-{n}", 1),))

    many = {url: statements_during(lambda url=url: browser.get(url)) for url in ("/practice", "/invoices")}
    assert many == few


def test_the_desks_pages_of_a_practice_and_of_invoices_cost_the_same_for_many(signed_in):
    owner = make_clinician(on_account=True)
    invoiced_order(owner)
    finance = signed_in(make_finance_clerk())
    customers = signed_in(make_staff(desks={Desk.CUSTOMERS}))
    pages = {
        "practice": (customers, f"/staff/practices/{owner.practice_id}"),
        "invoices": (finance, "/staff/invoices?shown=all"),
        "unpaid": (finance, "/staff/invoices"),
        "over-limit": (customers, "/staff/practices/over-limit"),
    }
    for browser, url in pages.values():
        browser.get(url)
    few = {name: statements_during(lambda b=b, u=u: b.get(u)) for name, (b, u) in pages.items()}

    for n in range(5):
        colleague = make_clinician(practice_of=owner, email=f"colleague{n}@clinic.example")
        invoiced_order(colleague, lines=((f"MORE-{n}", 1),))
        invoiced_order(lines=((f"ELSE-{n}", 1),))

    many = {name: statements_during(lambda b=b, u=u: b.get(u)) for name, (b, u) in pages.items()}
    assert many == few
