"""Licences watched, as people see them: the verification desk's list of licences expiring
within 30 days and of lapsed ones, with the reminders sent, counted on the dashboard; a
clinician sending a renewed licence from 30 days ahead and ordering on meanwhile; the desk
approving it (or asking for another, never rejecting it); and the prescribers of this shop
shown on the desk's pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from io import BytesIO

import pytest
import time_machine
from sqlalchemy import select

from shop.access import Desk
from shop.accounts import expiry, verification
from shop.accounts.licences import LicenceApplication
from shop.accounts.models import Profession
from shop.core.audit import AuditEntry
from shop.extensions import db
from tests.factories import make_applicant, make_clinician, make_staff, pdf_bytes, upload
from tests.helpers import flashes, reload, text

EXPIRY = date(2027, 6, 30)
UPLOAD_FORM = 'action="/account/document"'
COUNT = re.compile(r'<span class="stat-number">(\d+)</span>\s*<span class="stat-label">([^<]+)</span>')
LINK = re.compile(
    r'<a class="card stat[^"]*" href="([^"]+)">\s*<span class="stat-number">\d+</span>\s*<span class="stat-label">([^<]+)</span>'
)  # noqa: E501


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def dashboard(browser) -> tuple[dict[str, int], dict[str, str]]:
    html = browser.get("/staff").get_data(as_text=True)
    counts = {label: int(count) for count, label in COUNT.findall(html)}
    links = {label: url.replace("&amp;", "&") for url, label in LINK.findall(html)}
    return counts, links


def test_the_desk_lists_licences_expiring_within_30_days_and_lapsed_ones_with_the_reminders_sent(signed_in):
    with time_machine.travel(at(date(2027, 6, 20)), tick=False):
        soon = make_clinician(full_name="Dr Soon Expiring", licence_expiry=EXPIRY)
        make_clinician(full_name="Dr Last Day", licence_expiry=date(2027, 6, 20))
        make_clinician(full_name="Dr Far Away", licence_expiry=date(2027, 7, 21))
        make_clinician(full_name="Dr Lapsed Licence", licence_expiry=date(2027, 6, 18))
        expiry.check_licences()
        browser = signed_in(make_staff(desks={Desk.VERIFICATION}))

        counts, links = dashboard(browser)
        assert counts["licences expiring within 30 days"] == 2
        page = browser.get(links["licences expiring within 30 days"])
        listing = text(page)
        assert listing.index("Dr Last Day") < listing.index("Dr Soon Expiring")  # soonest first
        assert "Dr Far Away" not in listing and "Dr Lapsed Licence" not in listing
        assert "in 10 days" in listing and "last day today" in listing
        assert "30 days before expiry" in listing and "7 days before expiry" in listing
        assert f'href="/staff/applications/{soon.application.id}"' in page.get_data(as_text=True)
        assert (
            "Prescribers in this shop (PRESCRIBER_PROFESSIONS): Physician (MD/DO), Dentist, Nurse practitioner, "
            "Physician assistant." in listing
        )

        lapsed_page = text(browser.get("/staff/licences?show=lapsed"))
        assert "Dr Lapsed Licence" in lapsed_page and "lapsed 2 days ago" in lapsed_page
        assert "The day it lapsed" in lapsed_page
        assert "Dr Soon Expiring" not in lapsed_page and "Dr Last Day" not in lapsed_page
        # Whatever is typed in the address, the page answers.
        assert browser.get("/staff/licences?show=nonsense&page=-4").status_code == 200


def test_the_expiring_queue_counts_only_for_the_verification_desk(signed_in):
    with time_machine.travel(at(date(2027, 6, 20)), tick=False):
        make_clinician(licence_expiry=EXPIRY)
        orders_desk = signed_in(make_staff(email="orders@supplier.example", desks={Desk.ORDERS}))
        counts, _ = dashboard(orders_desk)
        assert "licence expiring within 30 days" not in counts and "licences expiring within 30 days" not in counts
        assert orders_desk.get("/staff/licences").status_code == 403


def document(expiry_on: date, message: str = "") -> dict:
    return {
        "licence_document": (BytesIO(pdf_bytes("Dr Orla Quinn", "MCI-1")), "renewed.pdf"),
        "licence_expiry": expiry_on.isoformat(),
        "message": message,
    }


def test_a_clinician_sends_a_renewal_from_30_days_ahead_keeps_ordering_and_the_desk_approves_it(signed_in):
    with time_machine.travel(at(date(2027, 5, 30)), tick=False) as traveller:
        clinician = make_clinician(full_name="Dr Orla Quinn", licence_expiry=EXPIRY)
        staff = make_staff(full_name="Robin Desk")
        browser = signed_in(clinician)
        assert UPLOAD_FORM not in browser.get("/account").get_data(as_text=True)  # 31 days ahead

        traveller.move_to(at(date(2027, 6, 20)))
        browser = signed_in(clinician)
        page = browser.get("/account")
        assert UPLOAD_FORM in page.get_data(as_text=True)
        assert "Your licence expires in 10 days." in text(page) and "Upload your renewed licence" in text(page)

        sent = browser.post("/account/document", document(date(2029, 6, 30), "Renewed by the council."))
        assert sent.status_code == 303
        status = text(browser.get("/account"))
        assert "We received your renewed licence (expiring 30 Jun 2029)" in status
        assert "your account stays open on your current licence meanwhile" in status
        assert browser.get("/catalogue").status_code == 200

        desk = signed_in(staff)
        counts, links = dashboard(desk)
        assert counts["renewed licence to review"] == 1
        assert "Dr Orla Quinn" in text(desk.get(links["renewed licence to review"]))
        assert "Dr Orla Quinn" in text(desk.get("/staff/applications?status=open"))
        application_page = desk.get(f"/staff/applications/{clinician.application.id}").get_data(as_text=True)
        assert "Decision on the renewed licence" in application_page
        assert "Approve the renewed licence" in application_page
        assert f"/staff/applications/{clinician.application.id}/reject" not in application_page
        assert "Correct the licence details" not in application_page

        refused = desk.post(f"/staff/applications/{clinician.application.id}/reject", {"reason": "No."})
        assert refused.status_code == 422 and reload(clinician).application.renewal_waiting

        approved = desk.post(f"/staff/applications/{clinician.application.id}/approve", {"note": ""})
        assert approved.status_code == 303
        assert reload(LicenceApplication, clinician.application.id).licence_expiry == date(2029, 6, 30)
        assert db.session.scalar(select(AuditEntry.actor_id).where(AuditEntry.action == "application.renewal_approved"))
        assert dashboard(desk)[0]["renewed licences to review"] == 0

        traveller.move_to(at(date(2027, 7, 5)))
        browser = signed_in(clinician)
        assert browser.get("/catalogue").status_code == 200
        assert "Your licence is verified until 30 Jun 2029" in text(browser.get("/account"))


def test_a_renewal_sent_back_shows_the_desks_words_and_the_form_again(signed_in):
    with time_machine.travel(at(date(2027, 6, 20)), tick=False):
        clinician = make_clinician(licence_expiry=EXPIRY)
        staff = make_staff()
        verification.submit_document(clinician, upload(), date(2029, 6, 30))
        desk = signed_in(staff)
        asked = desk.post(
            f"/staff/applications/{clinician.application.id}/request-info",
            {"message": "Only the first page came through."},
        )
        assert asked.status_code == 303
        page = signed_in(clinician).get("/account")
        assert "Only the first page came through." in text(page)
        assert UPLOAD_FORM in page.get_data(as_text=True)


def test_a_renewal_that_does_not_run_beyond_the_licence_on_file_gets_a_message(signed_in):
    with time_machine.travel(at(date(2027, 6, 20)), tick=False):
        clinician = make_clinician(licence_expiry=EXPIRY)
        response = signed_in(clinician).post("/account/document", document(date(2027, 6, 25)))
        assert response.status_code == 422
        assert "a renewed licence expires after that" in text(response)
        assert not reload(clinician).application.renewal_waiting
        assert all(kind != "success" for kind, _ in flashes(response))


def test_the_application_page_names_the_prescribers_of_this_shop(signed_in, app, ctx, monkeypatch):
    dentist = make_applicant(profession=Profession.DENTIST, full_name="Dr Dee Dentist")
    desk = signed_in(make_staff())
    page = text(desk.get(f"/staff/applications/{dentist.application.id}"))
    assert "Dentist (prescriber)" in page
    assert "Prescribers in this shop: Physician (MD/DO), Dentist, Nurse practitioner, Physician assistant" in page

    for config in (app.config, ctx.config):
        monkeypatch.setitem(config, "PRESCRIBER_PROFESSIONS", "physician")
    page = text(desk.get(f"/staff/applications/{dentist.application.id}"))
    assert "Dentist (not a prescriber)" in page and "Prescribers in this shop: Physician (MD/DO)" in page
    assert "Prescribers in this shop: Physician (MD/DO)." in text(desk.get("/staff/applications"))


@pytest.mark.parametrize("who", ["clinician", "staff of another desk"])
def test_only_the_verification_desk_opens_the_licences_list(signed_in, who):
    person = make_clinician() if who == "clinician" else make_staff(desks={Desk.QUOTES})
    assert signed_in(person).get("/staff/licences").status_code == 403
