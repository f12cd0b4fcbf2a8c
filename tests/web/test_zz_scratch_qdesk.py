from shop.extensions import db
from shop.models.quotes import Quote
from shop.services import quotes
from tests.factories import make_catalogue, make_clinician, make_staff
from tests.helpers import reload, text, flashes


def test_scratch(signed_in, mailbox):
    make_catalogue()
    clinician = make_clinician()
    staff = make_staff()
    doctor, desk = signed_in(clinician), signed_in(staff)
    r = doctor.post("/quotes/new", {"products-0-sku": "nope", "products-0-quantity": "0", "products-1-sku": "rsb-vit-1l", "products-1-quantity": "abc", "message": "x"*5000})
    print(r.status_code)
    open("/tmp/qscratch/new.html", "w").write(r.get_data(as_text=True))
    r = doctor.post("/quotes/new", {"products-0-sku": "nope", "products-0-quantity": "2"})
    print(r.status_code, flashes(r))
    open("/tmp/qscratch/new2.html", "w").write(r.get_data(as_text=True))
    r = doctor.post("/quotes/new", {"products-0-sku": "rsb-vit-1l", "products-0-quantity": "12", "others-0-item": "Hyaluronidase", "others-0-quantity":"3"})
    print(r.status_code)
    q = Quote.query.one()
    desk.post(f"/staff/quotes/{q.number}/draft")
    q = reload(Quote, q.id)
    d = q.draft
    for l in d.lines: print(l.sku, l.product_name, l.list_price_cents, l.unit_price_cents)
    for val in ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999", "-5", "1e-99999"]:
        form = {"lines-0-line_id": str(d.lines[0].id), "lines-0-quantity": "12", "lines-0-unit_price": val, "lines-0-discount": val,
                "shipping": val, "valid_until": d.valid_until.isoformat()}
        r = desk.post(f"/staff/quotes/{q.number}/save", form)
        print(val, r.status_code)
        open(f"/tmp/qscratch/save-{val}.html", "w").write(r.get_data(as_text=True))
        r = desk.post(f"/staff/quotes/{q.number}/lines", {"sku": "", "description": "x", "quantity": "1", "unit_price": val})
        print("add", val, r.status_code)
    form = {"lines-0-line_id": str(d.lines[0].id), "lines-0-quantity": "12", "lines-0-remove": "y","lines-1-line_id": str(d.lines[0].id), "lines-1-quantity": "12", "lines-1-remove": "y",
                "shipping": "0", "valid_until": d.valid_until.isoformat()}
    r = desk.post(f"/staff/quotes/{q.number}/save", form)
    print("dup", r.status_code)
