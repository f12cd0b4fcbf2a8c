"""A quote from request to order through the pages, as a first end-to-end check."""

import io
import re

from pypdf import PdfReader

from shop.core.mailer import deliver_due
from shop.ordering.models import Order
from shop.quoting.models import Quote, QuoteStatus
from tests.factories import make_catalogue, make_clinician, make_staff
from tests.helpers import reload, text


def test_a_requested_quote_is_issued_accepted_and_becomes_an_order_at_the_quoted_prices(signed_in, mailbox, app):
    make_catalogue()
    clinician = make_clinician(on_account=True)
    staff = make_staff()
    doctor, desk = signed_in(clinician), signed_in(staff)

    response = doctor.post(
        "/quotes/new",
        {
            "products-0-sku": "RSB-VIT-1L",
            "products-0-quantity": "40",
            "others-0-item": "Hyaluronidase 1500 IU",
            "others-0-quantity": "2",
            "message": "Monthly volume",
        },
    )
    assert response.status_code == 303, text(response)[:500]
    quote = Quote.query.one()
    assert quote.number.startswith("Q-") and quote.status == QuoteStatus.REQUESTED

    assert desk.post(f"/staff/quotes/{quote.number}/draft").status_code == 303
    quote = reload(Quote, quote.id)
    draft = quote.draft
    line = next(line for line in draft.lines if line.sku == "RSB-VIT-1L")
    custom = next(line for line in draft.lines if not line.sku)
    form = {
        "lines-0-line_id": str(draft.lines[0].id),
        "lines-1-line_id": str(draft.lines[1].id),
        "shipping": "0",
        "valid_until": draft.valid_until.isoformat(),
        "terms": "Net 30",
        "note": "Volume price",
        "then": "send",
    }
    for index, row in enumerate(draft.lines):
        form[f"lines-{index}-quantity"] = str(row.quantity)
        if row.id == line.id:
            form[f"lines-{index}-discount"] = "15"
        else:
            form[f"lines-{index}-unit_price"] = "80.00"
    response = desk.post(f"/staff/quotes/{quote.number}/save", form)
    assert response.status_code == 303, text(response)[:800]
    quote = reload(Quote, quote.id)
    assert quote.status == QuoteStatus.SENT
    version = quote.latest_sent
    assert custom.id in [row.id for row in version.lines]

    deliver_due()
    [sent] = [
        m
        for m in mailbox.to(clinician.email)
        if quote.number in m["Subject"] and "quote" in m["Subject"].lower() and "received" not in m["Subject"]
    ]
    pdf = next(part for part in sent.iter_attachments() if part.get_content_type() == "application/pdf")
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.get_content())).pages)
    assert quote.number in pdf_text and "RSB-VIT-1L" in pdf_text

    page = doctor.get(f"/quotes/{quote.number}/accept").get_data(as_text=True)
    address = re.search(r'name="address_id" required type="radio" value="(\d+)"', page).group(1)
    response = doctor.post(
        f"/quotes/{quote.number}/accept",
        {
            "version": str(version.number),
            "expected_total": str(version.total_cents),
            "address_id": address,
            "payment_method": "account",
        },
    )
    assert response.status_code == 303, text(response)[:800]
    order = Order.query.one()
    assert order.total_cents == version.total_cents
    assert {(ln.sku, ln.unit_price_cents) for ln in order.lines} == {
        (ln.sku or "CUSTOM", ln.unit_price_cents) for ln in version.lines
    }
    assert reload(Quote, quote.id).status == QuoteStatus.ACCEPTED
