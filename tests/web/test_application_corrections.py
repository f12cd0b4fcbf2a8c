"""The verification desk corrects an application before deciding: profession, licence number,
region and expiry, each change an event with before and after, so what is approved is what the
document says (a nurse's licence is never approved as a physician's)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shop import clock
from shop.accounts.licences import ApplicationStatus, LicenceApplication
from shop.accounts.models import Profession
from shop.cart import services as carts
from shop.core.audit import AuditEntry
from shop.errors import NotEligible
from shop.extensions import db
from tests.factories import make_applicant, make_product, make_staff
from tests.helpers import field_error, flashes, redirect_path, reload, text


@pytest.fixture
def desk(signed_in):
    member = make_staff(full_name="Robin Desk")
    return signed_in(member), member


def correction(application: LicenceApplication, **changes) -> dict:
    values = {
        "profession": application.profession.value,
        "licence_number": application.licence_number,
        "licence_region": application.licence_region,
        "licence_expiry": application.licence_expiry.isoformat(),
    }
    values.update(changes)
    return values


def test_the_desk_corrects_a_nurse_who_applied_as_a_physician_and_the_history_shows_before_and_after(desk):
    browser, member = desk
    application = make_applicant(full_name="Nurse Aoife Byrne", licence_number="NMBI-1234").application
    expiry = clock.today() + timedelta(days=200)

    response = browser.post(
        f"/staff/applications/{application.id}/correct",
        correction(
            application,
            profession="registered_nurse",
            licence_number="NMBI-12345",
            licence_region="Nursing and Midwifery Board of Ireland",
            licence_expiry=expiry.isoformat(),
        ),
    )

    assert response.status_code == 303
    assert ("success", "Licence details corrected; the change is in the history.") in flashes(
        browser.get(redirect_path(response))
    )
    corrected = reload(LicenceApplication, application.id)
    assert corrected.profession == Profession.REGISTERED_NURSE
    assert (corrected.licence_number, corrected.licence_expiry) == ("NMBI-12345", expiry)
    assert corrected.status == ApplicationStatus.PENDING
    [event] = [e for e in corrected.events if e.action == "corrected"]
    assert event.actor_id == member.id
    assert "Profession: Physician (MD/DO) → Registered nurse (under a prescriber)" in event.note
    assert "Licence number: NMBI-1234 → NMBI-12345" in event.note
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "application.corrected")).all()
    assert entry.actor_id == member.id
    assert entry.changes["profession"] == ["physician", "registered_nurse"]
    assert entry.changes["licence_expiry"][1] == expiry.isoformat()
    assert "status" not in entry.changes
    page = text(browser.get(f"/staff/applications/{application.id}"))
    assert "Licence details corrected" in page and "Registered nurse (under a prescriber)" in page


def test_a_corrected_nurse_once_approved_cannot_order_a_prescription_only_product(desk):
    browser, _ = desk
    applicant = make_applicant()
    application = applicant.application
    browser.post(
        f"/staff/applications/{application.id}/correct", correction(application, profession="registered_nurse")
    )
    browser.post(f"/staff/applications/{application.id}/approve", {"note": ""})
    kybella = make_product(name="Kybella", sku="KYB-1", prescription_only=True)

    assert reload(LicenceApplication, application.id).status == ApplicationStatus.APPROVED
    with pytest.raises(NotEligible, match="prescription-only"):
        carts.add_to_cart(reload(applicant), kybella.variants[0].sku, 1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("licence_number", "", "Enter the licence number."),
        ("licence_number", "<script>", "as printed on the licence"),
        ("licence_region", "", "Enter where the licence was issued."),
        ("licence_expiry", "31/12/2030", "YYYY-MM-DD"),
        ("licence_expiry", "9999-99-99", "YYYY-MM-DD"),
        ("profession", "surgeon", "Not a valid choice"),
    ],
)
def test_a_correction_the_desk_mistyped_gets_a_message_next_to_the_field_and_changes_nothing(
    desk, field, value, message
):
    browser, _ = desk
    application = make_applicant().application
    before = reload(LicenceApplication, application.id).licence_details()

    response = browser.post(f"/staff/applications/{application.id}/correct", correction(application, **{field: value}))

    assert response.status_code == 422
    assert message in field_error(response, field)
    assert reload(LicenceApplication, application.id).licence_details() == before


def test_an_expiry_in_the_past_is_refused_next_to_the_field(desk):
    browser, _ = desk
    application = make_applicant().application
    past = clock.today() - timedelta(days=1)

    response = browser.post(
        f"/staff/applications/{application.id}/correct", correction(application, licence_expiry=past.isoformat())
    )

    assert response.status_code == 422
    assert "expired licence cannot be approved" in field_error(response, "licence_expiry")
    assert reload(LicenceApplication, application.id).licence_expiry != past


def test_a_correction_that_changes_nothing_says_so_and_writes_no_event(desk):
    browser, _ = desk
    application = make_applicant().application

    response = browser.post(f"/staff/applications/{application.id}/correct", correction(application))

    assert response.status_code == 422
    assert "Nothing was changed" in text(response)
    assert [e.action for e in reload(LicenceApplication, application.id).events] == ["submitted"]


def test_a_decided_application_can_no_longer_be_corrected(desk):
    browser, _ = desk
    application = make_applicant().application
    browser.post(f"/staff/applications/{application.id}/approve", {"note": ""})
    assert "Correct the licence details" not in text(browser.get(f"/staff/applications/{application.id}"))

    response = browser.post(
        f"/staff/applications/{application.id}/correct", correction(application, profession="pharmacist")
    )

    assert response.status_code == 422
    assert "only an application waiting for a decision can be corrected" in text(response)
    assert reload(LicenceApplication, application.id).profession == Profession.PHYSICIAN


def test_staff_without_the_verification_desk_cannot_correct(signed_in):
    from shop.access import Desk

    clerk = make_staff(desks={Desk.ORDERS})
    application = make_applicant().application

    response = signed_in(clerk).post(
        f"/staff/applications/{application.id}/correct", correction(application, profession="pharmacist")
    )

    assert response.status_code == 403
    assert reload(LicenceApplication, application.id).profession == Profession.PHYSICIAN


def test_an_unknown_or_unconfirmed_application_is_not_found(desk):
    browser, _ = desk
    unconfirmed = make_applicant(confirmed=False).application
    assert browser.post(f"/staff/applications/{unconfirmed.id}/correct", correction(unconfirmed)).status_code == 404
    assert browser.post("/staff/applications/999999/correct", correction(unconfirmed)).status_code == 404
