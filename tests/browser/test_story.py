"""The shop's main story in a real browser: a clinician applies with a licence scan, staff
approve the application, and the clinician finds a product and its price."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shop import clock
from shop.core import mailer
from shop.core.outbox import OutboxMessage
from shop.extensions import db
from tests.factories import PASSWORD, make_catalogue, make_staff, pdf_bytes

pytestmark = pytest.mark.browser

APPLICANT = "dr.maeve.byrne@lakeside-clinic.example"


def confirmation_link(email: str) -> str:
    db.session.rollback()
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "account.confirm_email", OutboxMessage.to_address == email)
    ).one()
    return re.search(r"http://[^/\s]+(/register/confirm/\S+)", message.text_body).group(1)


def test_an_applicant_is_approved_by_staff_and_then_finds_a_product_and_its_price(
    page, browser, live_server, mailbox, ctx
):
    make_catalogue()
    staff = make_staff(email="verification@meridian.example", full_name="Jordan Lee", second_factor=False)

    # A visitor applies, with every field filled and a PDF of the licence attached.
    page.goto("/register")
    page.get_by_label("Full name").fill("Dr Maeve Byrne")
    page.get_by_label("Email address").fill(APPLICANT)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Profession").select_option("physician")
    page.get_by_label("Licence number").fill("IMC-778812")
    page.get_by_label("Issuing state or region").fill("Medical Council of Ireland")
    page.get_by_label("Licence expiry date").fill((clock.today() + timedelta(days=500)).isoformat())
    page.get_by_label("Scan of your licence").set_input_files(
        {"name": "licence.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("Dr Maeve Byrne", "IMC-778812")}
    )
    page.get_by_label("Practice name").fill("Lakeside Skin Clinic")
    page.get_by_label("Practice phone").fill("+353 91 555 0123")
    page.get_by_label("Address", exact=True).fill("7 Quay Street")
    page.get_by_label("Address line 2 (optional)").fill("First floor")
    page.get_by_label("City").fill("Galway")
    page.get_by_label("State or region", exact=True).fill("Co. Galway")
    page.get_by_label("ZIP or postal code").fill("H91 X2Y4")
    page.get_by_label("Country").select_option("IE")
    page.get_by_role("button", name="Send application").click()

    # The applicant is asked to confirm the address; the emailed link signs them in.
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    page.goto(confirmation_link(APPLICANT))
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", name="Under review")).to_be_visible()
    expect(page.get_by_role("search")).to_have_count(0)  # no catalogue search before approval

    # A member of staff, in another browser, approves the application.
    desk = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    desk.set_default_timeout(10_000)
    try:
        staff_page = desk.new_page()
        staff_page.goto("/login")
        staff_page.get_by_label("Email address").fill(staff.email)
        staff_page.get_by_label("Password").fill(PASSWORD)
        staff_page.get_by_role("button", name="Log in").click()
        # A first staff login sets up the authenticator app: the QR code, the key as text, and
        # the code the app then shows typed into the form.
        expect(staff_page.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
        expect(staff_page.locator(".qr-code svg")).to_be_visible()
        key = staff_page.locator("#authenticator-key").inner_text().replace(" ", "")
        staff_page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(key).now())
        staff_page.get_by_role("button", name="Confirm").click()
        expect(staff_page.locator(".recovery-codes li")).to_have_count(10)
        staff_page.get_by_role("link", name="I have saved them, continue").click()
        expect(staff_page).to_have_url(re.compile(r"/staff$"))
        staff_page.goto("/staff/applications")
        staff_page.get_by_role("link", name="Dr Maeve Byrne").click()
        expect(staff_page.get_by_role("heading", level=1)).to_contain_text("Dr Maeve Byrne")
        expect(staff_page.get_by_role("link", name=re.compile(r"licence.*\.pdf", re.I))).to_be_visible()
        staff_page.get_by_role("button", name="Approve").click()
        expect(staff_page.locator(".page-head .badge")).to_have_text("Approved")
    finally:
        desk.close()

    # The clinician reloads the status page: verified, and the catalogue search is there.
    page.reload()
    expect(page.get_by_role("heading", name="Verified")).to_be_visible()
    search = page.get_by_role("search").get_by_label("Search the catalogue")
    search.fill("Belotero Hydro")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/catalogue\?q=Belotero\+Hydro"))
    page.get_by_role("link", name="Belotero Hydro", exact=True).click()

    expect(page).to_have_url(re.compile(r"/catalogue/belotero-hydro$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Belotero Hydro")
    option = page.get_by_role("row").filter(has_text="BEL-HYD-1")
    expect(option).to_contain_text("$109.00")
    expect(option).to_contain_text("In stock")

    # Mail: the applicant's confirmation link, receipt and approval, customer care's notice of a
    # new application, and the staff member's notice that their account has a second factor.
    db.session.remove()
    report = mailer.deliver_due()
    assert report.failed == 0
    messages = mailbox.wait_for(5)
    to_applicant = [m["Subject"] for m in mailbox.to(APPLICANT)]
    assert sorted(to_applicant) == [
        "Confirm your email address to send your application",
        "We received your application",
        "Your account is approved",
    ]
    care = mailbox.to(ctx.config["CUSTOMER_CARE_EMAIL"])
    assert len(care) == 1 and "Dr Maeve Byrne" in care[0]["Subject"] and "Lakeside Skin Clinic" in care[0]["Subject"]
    assert [m["Subject"] for m in mailbox.to(staff.email)] == ["The second factor of your account changed"]
    assert len(messages) == 5
