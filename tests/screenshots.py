"""Screenshots of the main pages of a running demo shop, for the README and for review.

    python -m tests.screenshots --base http://127.0.0.1:5000 --out docs/screenshots

It logs in with the demo accounts and, for the ordering pages, fills the demo clinician's cart
and places an order on account first, so run it against a scratch copy of the demo database.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pyotp
from playwright.sync_api import Page, sync_playwright

from shop.demo.seed import ADMIN, CLINICIAN, STAFF
from tests.helpers import CHROMIUM_ARGS, chromium_path


def log_in(page: Page, base: str, who: tuple[str, str, str]) -> None:
    page.goto(base + "/login")
    page.fill("#email", who[0])
    page.fill("#password", who[1])
    page.click("main button[type=submit]")
    if page.url.endswith("/login/enrol"):
        # A demo staff member's first login: set up an authenticator from the key on the page.
        key = page.inner_text("#authenticator-key").replace(" ", "")
        page.fill("#code", pyotp.TOTP(key).now())
        page.click("main button[type=submit]")
        page.click("text=I have saved them, continue")


def type_a_search(page: Page, base: str) -> None:
    """The header search box with its suggestions open, the first one chosen."""
    page.goto(f"{base}/catalogue")
    box = page.get_by_role("combobox", name="Search the catalogue")
    box.click()
    box.press_sequentially("teo", delay=60)
    page.get_by_role("listbox", name="Suggestions").wait_for()
    box.press("ArrowDown")


def fill_cart(page: Page, base: str) -> None:
    for slug, quantity in (("restylane-skinboosters-vital", "6"), ("juvederm-hydrate", "2"), ("aqualyx", "1")):
        page.goto(f"{base}/catalogue/{slug}")
        page.locator("form.add-to-cart input[name=quantity]").first.fill(quantity)
        page.locator("form.add-to-cart button").first.click()


def place_order(page: Page, base: str) -> str:
    page.goto(base + "/checkout")
    page.fill("#po_number", "PO-2291")
    page.check("input[name=payment_method][value=account]")
    page.click("form.checkout button[type=submit]")
    return page.url.rsplit("/", 1)[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args()
    out, base = Path(args.out), args.base
    out.mkdir(parents=True, exist_ok=True)

    def shot(page: Page, name: str, path: str | None = None) -> None:
        if path:
            page.goto(base + path)
        page.screenshot(path=str(out / f"{name}.png"), full_page=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        viewport = {"width": args.width, "height": 900}

        visitor = browser.new_context(viewport=viewport).new_page()
        shot(visitor, "home", "/")
        shot(visitor, "register", "/register")

        clinician = browser.new_context(viewport=viewport).new_page()
        log_in(clinician, base, CLINICIAN)
        shot(clinician, "catalogue", "/catalogue")
        shot(clinician, "catalogue-filtered", "/catalogue?category=skin-boosters&lidocaine=1")
        shot(clinician, "product", "/catalogue/restylane-skinboosters-vital")
        shot(clinician, "search-misspelt", "/catalogue?q=restylnae")
        shot(clinician, "search-nothing", "/catalogue?q=polynucleotide+eye+serum")
        type_a_search(clinician, base)
        clinician.screenshot(path=str(out / "search-suggestions.png"))
        fill_cart(clinician, base)
        shot(clinician, "cart", "/cart")
        shot(clinician, "checkout", "/checkout")
        number = place_order(clinician, base)
        shot(clinician, "order", f"/orders/{number}")
        shot(clinician, "account", "/account")

        clinician.goto(base + "/quotes/new")
        clinician.fill("#products-0-sku", "RSB-VIT-1L")
        clinician.fill("#products-0-quantity", "40")
        clinician.fill("#others-0-item", "Hyaluronidase 1500 IU")
        clinician.fill("#others-0-quantity", "2")
        clinician.fill("#message", "Our monthly volume for the two clinics.")
        clinician.click("form.quote-request button[type=submit]")
        quote = clinician.url.rsplit("/", 1)[-1]

        staff = browser.new_context(viewport=viewport).new_page()
        log_in(staff, base, STAFF)
        staff.goto(f"{base}/staff/quotes/{quote}")
        staff.click("button:has-text('Prepare the quote')")
        staff.fill("#lines-0-discount", "12")
        staff.fill("#lines-1-unit_price", "38.00")
        staff.click("button:has-text('Save draft')")
        shot(staff, "staff-quote-builder")
        staff.click("button[value=send]")
        shot(clinician, "quote", f"/quotes/{quote}")
        shot(staff, "staff-dashboard", "/staff")
        shot(staff, "staff-applications", "/staff/applications?status=all")
        shot(staff, "staff-application", "/staff/applications/2")
        shot(staff, "staff-orders", "/staff/orders")
        shot(staff, "staff-order", f"/staff/orders/{number}")
        shot(staff, "login-and-security", "/account/security")
        shot(staff, "staff-mail-message", "/staff/mail/1")

        admin = browser.new_context(viewport=viewport).new_page()
        log_in(admin, base, ADMIN)
        admin.goto(f"{base}/staff/orders/{number}")
        admin.click("button:has-text('Confirm')")
        invoice = admin.locator("a[href^='/staff/invoices/INV-']").first.inner_text()
        shot(admin, "staff-invoice", f"/staff/invoices/{invoice}")
        shot(admin, "staff-practice", "/staff/practices/1")
        admin.goto(f"{base}/staff/orders/{number}/ship")
        shot(admin, "staff-pack")
        recall = ship_and_recall(admin, base)
        shot(admin, "staff-recall")
        shot(clinician, "recall", recall)
        key_in_order(admin, base)
        shot(admin, "staff-desk-order")
        shot(clinician, "practice", "/practice")
        shot(clinician, "invoices", "/invoices")
        shot(admin, "staff-catalogue", "/staff/catalogue")
        shot(admin, "staff-product", "/staff/catalogue/1")
        import_with_errors(admin, base, out)
        shot(admin, "staff-import")
        browser.close()


def ship_and_recall(page: Page, base: str) -> str:
    """Record the parcel from the lots offered, then recall the first lot shipped and send the
    notice; the clinician's path to the recall."""
    page.fill("#carrier", "DHL Express")
    page.fill("#tracking_number", "JD014600003IE")
    page.click("button:has-text('Record the parcel')")
    page.locator("#parcels-title ~ .table-wrap a").first.click()
    page.click("text=Open a recall for this lot")
    page.fill("#manufacturer_reference", "FSCA-2026-118")
    page.fill("#reason", "Particulate matter found in syringes of this lot during stability testing.")
    page.click("button:has-text('Open the recall')")
    page.click("button:has-text('Send the recall notice')")
    return "/recalls/" + page.url.rstrip("/").rsplit("/", 1)[-1]


def key_in_order(page: Page, base: str) -> None:
    """The orders desk types a phone order for the demo practice; the lines are checked live."""
    page.goto(base + "/staff/orders/new?practice=1")
    page.locator("input[name=clinician_id]").first.check()
    page.fill("#lines", "RSB-VIT-1 4\nvital light 2\nkybella 1")
    page.wait_for_selector("#line-check table")
    page.fill("#po_number", "Phoned in, PO-2302")


IMPORT_WITH_ERRORS = """product_slug,product_name,brand,category,status,prescription_only,sku,gtin,option,pack_size,price,volume_prices,stock
restylane-skinboosters-vital,Restylane Skinboosters Vital,Restylane,Skin boosters,active,no,RSB-VIT-1,,"Vital, 1 mL","1 syringe of 1 mL, 2 needles 29G",134.00,5:122.50;10:116.00,60
aurora-glow,Aurora Glow,Restylane,Skin boosters,draft,no,AUR-1,4006381333932,1 mL,1 x 1 mL,95.00,,20
aurora-glow,Aurora Glow,Restylane,Skin boosters,draft,no,AUR-2,,2 mL,1 x 2 mL,180.00,5:185.00,-4
lumen-meso,Lumen Meso,Filorga,Perfumes,draft,maybe,LUM-1,,5 mL,5 vials,12O.00,,10
"""


def import_with_errors(page: Page, base: str, out: Path) -> None:
    """Upload a file with mistakes and wait for the worker (`make run` starts it) to check it."""
    path = out / "import-with-errors.csv"
    path.write_text(IMPORT_WITH_ERRORS)
    try:
        page.goto(base + "/staff/catalogue/import")
        page.set_input_files("#file", str(path))
        page.click("text=Check the file")
        page.wait_for_selector("text=Rejected rows", timeout=30_000)
    finally:
        path.unlink()


if __name__ == "__main__":
    main()
