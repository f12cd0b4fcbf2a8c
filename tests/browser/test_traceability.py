"""Traceability in a real browser, from goods in to a recall answered: the catalogue clerk
receives a lot by pasting what a keyboard-wedge scanner types (GS1 element strings with the
group separator), a clinician orders on account, the orders desk confirms the order and packs it
from that lot (offered first expiry first), the recall desk opens a recall for the lot from its
page and sends the notice; every member of the practice and customer care receive it by email,
and a colleague of the clinician who ordered acknowledges it for the practice."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shop import clock
from shop.access import Desk
from shop.extensions import db
from shop.lots.models import Lot, LotStatus
from shop.ordering.models import Order, OrderStatus
from shop.recalls.models import Recall
from shop.shipping.models import Shipment
from tests.factories import PASSWORD, make_clinician, make_staff, make_variant
from tests.helpers import browser_log_in, delivered, reload
from tests.smtp import text_of

pytestmark = pytest.mark.browser

GTIN = "07640000000018"
GROUP_SEPARATOR = "\x1d"  # ASCII 29, which a scanner types after a variable-length field


def log_out(tab) -> None:
    tab.get_by_role("button", name="Log out").click()
    expect(tab.get_by_role("button", name="Log out")).to_have_count(0)


def test_a_scanned_lot_is_shipped_recalled_and_the_recall_acknowledged_by_the_practice(
    page, live_server, ctx, mailbox, settled
):
    variant = make_variant(
        "HYD-1", name="Hydra Booster Test", slug="hydra-booster-test", price_cents=9_900, stock=0, lots=False
    )
    variant.gtin = GTIN
    db.session.commit()
    owner = make_clinician(
        email="dr.byrne@harbour.example",
        full_name="Dr Maeve Byrne",
        practice_name="Harbour Skin Clinic",
        on_account=True,
    )
    colleague = make_clinician(email="dr.walsh@harbour.example", full_name="Dr Niamh Walsh", practice_of=owner)
    clerk = make_staff(email="goods-in@supplier.example", full_name="Sam Stock", desks=[Desk.CATALOGUE])
    desk = make_staff(
        email="quality@supplier.example",
        full_name="Dana Desk",
        desks=[Desk.ORDERS, Desk.RECALLS, Desk.CATALOGUE],
    )
    settled()

    # Goods in: the clerk puts the cursor in the scan field and the scanner types the pack's code.
    expires_on = clock.today() + timedelta(days=730)
    scanned = f"01{GTIN}17{expires_on:%y%m%d}10HX-2291{GROUP_SEPARATOR}21SN0001"
    browser_log_in(page, clerk.email, PASSWORD)
    page.goto(f"/staff/catalogue/{variant.product_id}/variants/{variant.id}/stock")
    expect(page.get_by_role("heading", name="Stock of HYD-1")).to_be_visible()
    page.get_by_label("What happened").select_option(label="Goods received")
    scan_field = page.get_by_label("Scan the pack (GS1 code)")
    scan_field.fill(scanned)
    assert scan_field.input_value() == scanned  # the group separator is in the field as typed
    page.get_by_label("Packs").fill("20")
    page.get_by_label("Reference (delivery note, batch, return number)").fill("DN-55012")
    page.get_by_role("button", name="Record").click()
    expect(page.locator(".flash-success")).to_contain_text("20 received: HYD-1 now has 20 in stock. (lot HX-2291)")
    lots_table = page.get_by_role("region", name="Lots")
    expect(lots_table.get_by_role("link", name="HX-2291")).to_be_visible()
    # The separator ended the lot number: without it the serial (21) would be read into the lot.
    lot = db.session.scalars(select(Lot)).one()
    assert (lot.lot_number, lot.expires_on, lot.on_hand, lot.status) == ("HX-2291", expires_on, 20, LotStatus.AVAILABLE)
    assert reload(variant).stock_on_hand == 20
    log_out(page)

    # The clinician orders 3 packs on account from the product page.
    browser_log_in(page, owner.email, PASSWORD)
    page.goto("/catalogue/hydra-booster-test")
    page.get_by_label("Quantity of HYD-1").fill("3")
    page.get_by_role("button", name="Add to cart HYD-1").click()
    expect(page.get_by_role("cell", name="HYD-1").first).to_be_visible()
    page.goto("/cart")
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("On account (invoice)").check()
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/orders/ORD-\d+$"))
    number = re.search(r"ORD-\d+", page.url).group(0)
    log_out(page)

    # The orders desk confirms the order and packs it: the lot is offered, first expiry first.
    browser_log_in(page, desk.email, PASSWORD)
    page.goto(f"/staff/orders/{number}")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("Confirmed")
    page.get_by_role("link", name="Pack and ship").click()
    expect(page.get_by_role("heading", name=f"Pack {number}")).to_be_visible()
    expect(page.get_by_label("Lot", exact=True)).to_have_value("HX-2291")
    expect(page.get_by_label("Packs").first).to_have_value("3")
    page.get_by_label("Carrier").fill("DHL Express")
    page.get_by_label("Tracking number").fill("JD014600006281")
    page.get_by_role("button", name="Record the parcel and email the clinician").click()
    expect(page.locator(".flash-success")).to_contain_text("the order is shipped")
    parcels = page.get_by_role("region", name="Shipped: parcels and lots")
    expect(parcels).to_contain_text("JD014600006281")
    parcel_row = parcels.get_by_role("row").filter(has_text="HYD-1")
    expect(parcel_row).to_contain_text("HX-2291")
    expect(parcel_row.get_by_role("cell").nth(2)).to_have_text("3")
    order = reload(Order, number)
    assert order.status == OrderStatus.SHIPPED
    [shipment] = db.session.scalars(select(Shipment).where(Shipment.order_id == order.id)).all()
    assert [(line.lot_id, line.quantity) for line in shipment.lines] == [(lot.id, 3)]
    assert reload(lot).on_hand == 17

    # The recall desk opens a recall from the lot's page (the link in the parcel's table).
    parcel_row.get_by_role("link", name="HX-2291").click()
    expect(page.get_by_role("heading", name=re.compile("Lot HX-2291"))).to_be_visible()
    page.get_by_role("link", name="Open a recall for this lot").click()
    expect(page.get_by_role("heading", name="Recall lots of Hydra Booster Test")).to_be_visible()
    expect(page.get_by_label(re.compile(r"^HX-2291 · HYD-1"))).to_be_checked()
    page.get_by_label("Manufacturer's recall reference").fill("FSCA-2291-07")
    reason = "Particulate matter found in syringes of this lot during stability testing."
    page.get_by_label("Reason (the practices read it)").fill(reason)
    page.get_by_role("button", name="Open the recall and take the lots off sale").click()
    expect(page.locator(".flash-success")).to_contain_text("the lots are off sale")
    recall = db.session.scalars(select(Recall)).one()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Recall {recall.number}")
    practice_row = page.get_by_role("row").filter(has_text="Harbour Skin Clinic").first
    expect(practice_row).to_contain_text("Not yet notified")
    assert reload(lot).status == LotStatus.RECALLED
    assert reload(variant).stock_on_hand == 0  # the 17 packs left on the shelf are off sale
    page.get_by_role("button", name="Send the recall notice to 1 practice and customer care").click()
    expect(page.locator(".flash-success")).to_contain_text("The notice went to 1 practice")
    expect(practice_row).to_contain_text("Not yet acknowledged")
    log_out(page)

    # The mail: every member of the practice, and customer care.
    subject = f"URGENT: product recall {recall.number}"
    for member in (owner, colleague):
        [notice] = delivered(mailbox, member.email, subject)
        body = text_of(notice)
        assert "HX-2291" in notice["Subject"] and "HX-2291" in body, body
        assert reason in body and "FSCA-2291-07" in body and number in body, body
        assert notice["Reply-To"] == ctx.config["CUSTOMER_CARE_EMAIL"]
    [summary] = delivered(mailbox, ctx.config["CUSTOMER_CARE_EMAIL"], f"Recall {recall.number} notified to 1")
    assert "Harbour Skin Clinic" in text_of(summary) and reason in text_of(summary)
    [shipped] = delivered(mailbox, owner.email, "Your order is on its way")
    assert "HX-2291" in text_of(shipped) and "JD014600006281" in text_of(shipped)

    # The colleague, who did not order, sees the alert in the catalogue and acknowledges.
    browser_log_in(page, colleague.email, PASSWORD)
    page.goto("/catalogue")
    alert = page.locator(".recall-alert")
    expect(alert).to_contain_text("Urgent: a product recall concerns your practice.")
    alert.get_by_role("link", name="Read it and acknowledge").click()
    page.get_by_role("link", name=recall.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Recall {recall.number}: Hydra Booster Test")
    expect(page.get_by_role("region", name="Why")).to_contain_text(reason)
    received = page.get_by_role("region", name="What your practice received")
    expect(received.get_by_role("row").filter(has_text="HX-2291")).to_contain_text(number)
    page.get_by_role("button", name="Acknowledge the recall").click()
    expect(page.locator(".flash-success")).to_contain_text("the recall is acknowledged for your practice")
    expect(page.get_by_role("region", name="Acknowledgement")).to_contain_text("Acknowledged by Dr Niamh Walsh")
    page.goto("/catalogue")
    expect(page.locator(".recall-alert")).to_have_count(0)
    log_out(page)

    # Back at the recall desk: the practice has acknowledged, and who did.
    browser_log_in(page, desk.email, PASSWORD)
    page.goto(f"/staff/recalls/{recall.id}")
    practice_row = page.get_by_role("row").filter(has_text="Harbour Skin Clinic").first
    expect(practice_row).to_contain_text("Acknowledged")
    expect(practice_row).to_contain_text("by Dr Niamh Walsh")
    expect(practice_row).not_to_contain_text("Not yet acknowledged")
    [notice] = reload(recall).notices
    assert (notice.acknowledged_by_id, notice.times_notified) == (colleague.id, 1)
    assert {address.strip() for address in notice.notified_to.split(",")} == {owner.email, colleague.email}
