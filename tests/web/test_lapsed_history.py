"""A lapsed licence orders nothing, but its history stays visible: the clinician still reads the
practice's orders, quotes and invoices (and answers recalls), and is sent to the account page
for everything that would buy. Someone never verified reads nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from shop import clock
from shop.accounts.licences import ApplicationStatus
from shop.extensions import db
from shop.practices.models import PracticeRole
from tests.factories import invoiced_order, make_applicant, make_clinician
from tests.helpers import redirect_path, text


def test_a_lapsed_licence_still_reads_its_history_and_buys_nothing(signed_in):
    expiry = clock.today() + timedelta(days=10)
    clinician = make_clinician(on_account=True, licence_expiry=expiry, full_name="Dr Lena Hart")
    order = invoiced_order(clinician)
    with time_machine.travel(datetime.combine(expiry + timedelta(days=2), datetime.min.time(), UTC), tick=False):
        browser = signed_in(clinician)
        history = browser.get("/orders")
        assert history.status_code == 200 and order.number in text(history)
        assert "Orders" in text(history) and "Invoices" in text(history)
        assert browser.get(f"/orders/{order.number}").status_code == 200
        invoices = browser.get("/invoices")
        assert invoices.status_code == 200 and order.invoice.number in text(invoices)
        assert browser.get(f"/invoices/{order.invoice.number}.pdf").status_code == 200
        assert browser.get("/quotes").status_code == 200

        for path in ("/catalogue", "/cart", "/checkout", "/quotes/new"):
            assert redirect_path(browser.get(path)) == "/account", path
        assert redirect_path(browser.post(f"/orders/{order.number}/reorder", {})) == "/account"


def test_someone_never_verified_reads_no_history_even_in_a_practice(signed_in):
    owner = make_clinician(on_account=True)
    order = invoiced_order(owner)
    applicant = make_applicant(email="new.colleague@clinic.example")
    applicant.practice_id, applicant.practice_role = owner.practice_id, PracticeRole.BUYER
    db.session.commit()
    browser = signed_in(applicant)
    assert redirect_path(browser.get("/orders")) == "/account"
    assert redirect_path(browser.get(f"/orders/{order.number}")) == "/account"
    assert redirect_path(browser.get("/invoices")) == "/account"


def test_a_clinician_whose_renewal_was_rejected_reads_no_more_history(signed_in):
    clinician = make_clinician(on_account=True)
    order = invoiced_order(clinician)
    application = clinician.application
    application.status = ApplicationStatus.REJECTED
    db.session.commit()
    browser = signed_in(clinician)
    assert redirect_path(browser.get(f"/orders/{order.number}")) == "/account"
