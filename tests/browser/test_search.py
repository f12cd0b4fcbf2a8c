"""Searching in a real browser: the header search box suggests brands, products and SKUs as a
clinician types, chosen with the keyboard as a screen-reader user would; a misspelt brand finds
what it means; and an empty result leads to the quotes desk with the term already filled in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_catalogue, make_clinician
from tests.helpers import browser_log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def shopper(page, live_server, ctx):
    """A verified clinician at the demo catalogue, in Chromium."""
    make_catalogue()
    browser_log_in(page, make_clinician().email, PASSWORD)
    page.goto("/catalogue")
    return page


def test_suggestions_while_typing_are_chosen_with_the_keyboard(shopper):
    page = shopper
    box = page.get_by_role("combobox", name="Search the catalogue")
    box.click()
    box.press_sequentially("resty", delay=40)
    suggestions = page.get_by_role("listbox", name="Suggestions")
    expect(suggestions).to_be_visible(timeout=15_000)
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(suggestions.get_by_role("option").first).to_contain_text("Restylane")
    expect(page.get_by_role("status").filter(has_text="suggestions")).to_contain_text("arrow keys")

    box.press("ArrowDown")
    first = suggestions.get_by_role("option").first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    box.press("Escape")
    expect(suggestions).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")

    box.fill("")
    box.press_sequentially("vital light", delay=40)
    expect(suggestions.get_by_role("option", name=re.compile("Restylane Skinboosters Vital Light"))).to_be_visible(
        timeout=15_000
    )
    option = suggestions.get_by_role("option", name=re.compile("Restylane Skinboosters Vital Light"))
    while option.get_attribute("aria-selected") != "true":
        box.press("ArrowDown")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/catalogue/restylane-skinboosters-vital-light$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Restylane Skinboosters Vital Light")


def test_a_misspelt_brand_finds_it_and_an_empty_search_leads_to_the_quotes_desk(shopper):
    page = shopper
    box = page.get_by_role("combobox", name="Search the catalogue")
    box.fill("belotaro")
    box.press("Enter")  # no suggestion chosen: a plain search
    expect(page.get_by_text(re.compile("Nothing matches “belotaro”. Did you mean"))).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=re.compile("Belotero"))).not_to_have_count(0)

    box = page.get_by_role("combobox", name="Search the catalogue")
    box.fill("polynucleotide eye serum")
    box.press("Enter")
    expect(page.get_by_role("heading", name="No products match")).to_be_visible()
    page.get_by_role("link", name=re.compile("Ask for a quote")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("quote")
    expect(page.locator("input[name='others-0-item']")).to_have_value("polynucleotide eye serum")
