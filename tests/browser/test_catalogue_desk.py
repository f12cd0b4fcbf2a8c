"""The catalogue desk in a real browser: a product made with two variants and an image, then seen
in the catalogue by a clinician; and a CSV import that has errors, is corrected, and is applied
while the page follows the worker with its progress bar."""

from __future__ import annotations

import csv
import io
import re
import threading

import pytest
from PIL import Image
from playwright.sync_api import expect

from shop.access import Desk
from shop.catalogue.csv_format import COLUMNS, export_rows
from shop.catalogue.import_jobs import run_next
from shop.core.mailer import run_worker
from shop.extensions import db
from tests.factories import PASSWORD, make_clinician, make_product, make_staff
from tests.helpers import browser_log_in, stock_of

pytestmark = pytest.mark.browser


def _png(path) -> str:
    out = io.BytesIO()
    Image.new("RGB", (900, 700), (40, 120, 180)).save(out, "PNG")
    path.write_bytes(out.getvalue())
    return str(path)


def _variant(page, product_url: str, sku: str, option: str, price: str) -> None:
    page.get_by_role("link", name="Add a variant").click()
    page.get_by_label("SKU", exact=True).fill(sku)
    page.get_by_label("Option", exact=True).fill(option)
    page.get_by_label("Pack", exact=True).fill("1 x 1 mL syringe")
    page.get_by_label("Price a pack", exact=True).fill(price)
    page.get_by_role("button", name="Add variant").click()
    expect(page).to_have_url(re.compile(re.escape(product_url) + r"$"))
    expect(page.locator(".flash-success")).to_contain_text(f"{sku.upper()} is added")


def test_a_product_made_at_the_desk_reaches_the_clinicians_catalogue(page, live_server, ctx, tmp_path, browser):
    make_product(name="Existing", brand="Nordic Derma")  # a brand and a category to choose
    clerk = make_staff(email="catalogue@supplier.example", desks=[Desk.CATALOGUE])
    clinician = make_clinician(email="dr.lund@clinic.example")

    browser_log_in(page, clerk.email, PASSWORD)
    page.get_by_role("navigation", name="Back office").get_by_role("link", name="Catalogue").click()
    page.get_by_role("link", name="New product").click()
    page.get_by_label("Name", exact=True).fill("Aurora Glow")
    page.get_by_label("Brand").select_option(label="Nordic Derma")
    page.get_by_label("Summary (one line on the catalogue card)").fill("A gentle booster for dull skin.")
    page.get_by_label("Status in the European Union").select_option(label="CE-marked")
    page.get_by_label("Cleared for sale in the European Union").check()
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash-success")).to_contain_text("Aurora Glow is saved as a draft")
    product_url = page.url.replace(live_server, "")

    _variant(page, product_url, "aur-1", "1 mL", "95.00")
    _variant(page, product_url, "aur-2", "2 mL", "180.00")
    page.get_by_label("Add an image").set_input_files(_png(tmp_path / "aurora.png"))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".flash-success")).to_contain_text("The image is added")
    expect(page.locator(".image-list img")).to_have_count(1)
    page.get_by_role("button", name="Put on sale").click()
    expect(page.locator(".flash-success")).to_contain_text("Aurora Glow is on sale")

    other = browser.new_context(base_url=live_server).new_page()
    browser_log_in(other, clinician.email, PASSWORD)
    other.goto("/catalogue?q=aurora")
    card = other.locator(".product-card", has_text="Aurora Glow")
    expect(card).to_contain_text("from $95.00")
    image = card.locator("img.product-image")
    expect(image).to_have_attribute("src", re.compile(r"/catalogue/images/\d+-[0-9a-f]{16}-card\.webp"))
    assert image.evaluate("img => img.complete && img.naturalWidth") == 480
    card.get_by_role("link", name="Aurora Glow").click()
    expect(other.get_by_role("row", name=re.compile("AUR-2"))).to_contain_text("$180.00")
    other.context.close()


def test_an_import_with_errors_is_corrected_and_applied_as_the_progress_bar_follows(
    page, live_server, ctx, app, tmp_path
):
    make_product(name="Existing", slug="existing", sku="EXI-1", brand="Nordic Derma", stock=4)
    clerk = make_staff(email="imports@supplier.example", desks=[Desk.CATALOGUE])
    [row] = export_rows()
    price, stock = COLUMNS.index("price"), COLUMNS.index("stock")
    bad, good = tmp_path / "prices.csv", tmp_path / "prices-fixed.csv"
    for path, new_price, new_stock in ((bad, "12O.00", 4), (good, "120.00", 9)):
        row[price], row[stock] = new_price, new_stock
        out = io.StringIO()
        csv.writer(out).writerows([COLUMNS, row])
        path.write_text(out.getvalue())

    browser_log_in(page, clerk.email, PASSWORD)
    page.goto("/staff/catalogue/import")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("progress#import-bar")).to_be_visible()  # the worker has not started yet

    stop = threading.Event()

    def worker():
        with app.app_context():
            run_worker(stop, 0.2, each_round=(run_next,))

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    try:
        expect(page.get_by_role("heading", name="Rejected rows")).to_be_visible()
        expect(page.get_by_role("row", name=re.compile("price"))).to_contain_text("“12O.00” is not an amount")
        expect(page.get_by_role("button", name="Apply the import")).to_have_count(0)

        page.get_by_role("link", name="upload it again").click()
        page.get_by_label("CSV file").set_input_files(str(good))
        page.get_by_role("button", name="Check the file").click()
        expect(page.locator(".import-counts")).to_contain_text("1 to update")
        page.get_by_role("button", name="Apply the import").click()
        expect(page.get_by_text("Applied: 0 created, 1 updated")).to_be_visible()
    finally:
        stop.set()
        thread.join(timeout=10)
    db.session.expire_all()
    assert stock_of("EXI-1") == 9
