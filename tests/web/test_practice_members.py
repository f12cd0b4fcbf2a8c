"""A practice's members: the owner invites a colleague by email, the colleague applies through
the link with their own licence (verified as anyone's), roles decide who manages and who buys,
removing a member keeps their history, and another practice's members are never reachable."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import select

from shop import clock
from shop.accounts.licences import ApplicationStatus, LicenceApplication
from shop.accounts.models import User
from shop.cart import services as carts
from shop.core.audit import AuditEntry
from shop.errors import NotEligible
from shop.extensions import db
from shop.practices.models import Invitation, Practice, PracticeEvent, PracticeRole
from tests.factories import (
    PASSWORD,
    fill_cart,
    make_clinician,
    make_product,
    make_staff,
    pdf_bytes,
    place_order,
)
from tests.helpers import delivered, field_error, flashes, redirect_path, reload, text
from tests.smtp import text_of

LINK = re.compile(r"https?://\S+/register/join/\S+")


def join_form(**overrides) -> dict:
    values = {
        "password": PASSWORD,
        "full_name": "Nurse Orla Kelly",
        "profession": "registered_nurse",
        "licence_number": "NMBI-778899",
        "licence_region": "Nursing and Midwifery Board of Ireland",
        "licence_expiry": (clock.today() + timedelta(days=400)).isoformat(),
        "licence_document": (BytesIO(pdf_bytes("Nurse Orla Kelly", "NMBI-778899")), "licence.pdf"),
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


@pytest.fixture
def owner(signed_in):
    user = make_clinician(full_name="Dr Maeve Byrne", practice_name="Harbour Skin Clinic")
    return signed_in(user), user


def invitation_link(mailbox, address: str) -> str:
    """The path of the link in the latest invitation emailed to `address`."""
    message = delivered(mailbox, address, "invites you")[-1]
    return urlsplit(LINK.search(text_of(message)).group(0)).path


def events_of(practice_id: int, action: str) -> list[PracticeEvent]:
    return [e for e in reload(Practice, practice_id).events if e.action == action]


# --- inviting and joining ---------------------------------------------------------------------------


def test_the_owner_invites_a_colleague_who_applies_through_the_link_and_waits_for_the_desk(
    owner, make_client, mailbox, app
):
    browser, me = owner

    response = browser.post("/practice/invitations", {"email": "Orla.Kelly@Clinic.example", "role": "buyer"})

    assert response.status_code == 303
    assert ("success", "Invitation sent to orla.kelly@clinic.example. It works for 14 days.") in flashes(
        browser.get("/practice")
    )
    assert "orla.kelly@clinic.example as buyer" in text(browser.get("/practice"))
    link = invitation_link(mailbox, "orla.kelly@clinic.example")
    colleague = make_client()
    page = text(colleague.get(link))
    assert "Join Harbour Skin Clinic" in page and "Dr Maeve Byrne invited you" in page
    assert "orla.kelly@clinic.example" in page

    applied = colleague.post(link, join_form())

    assert applied.status_code == 303 and redirect_path(applied) == "/account"
    joined = db.session.scalar(select(User).where(User.email == "orla.kelly@clinic.example"))
    assert joined.practice_id == me.practice_id and joined.practice_role == PracticeRole.BUYER
    assert joined.email_confirmed_at is not None
    assert joined.application.status == ApplicationStatus.PENDING
    assert joined.application.licence_number == "NMBI-778899"
    assert [e.action for e in events_of(me.practice_id, "member_joined")] == ["member_joined"]
    assert "your application to join Harbour Skin Clinic is with our verification desk" in text(
        colleague.get("/account")
    )
    assert delivered(mailbox, app.config["CUSTOMER_CARE_EMAIL"], "New licence application")
    assert reload(Invitation, db.session.scalar(select(Invitation.id))).accepted_by_id == joined.id


def test_the_verification_desk_sees_the_colleague_joining_the_practice(owner, make_client, mailbox, signed_in):
    browser, me = owner
    browser.post("/practice/invitations", {"email": "orla@clinic.example", "role": "buyer"})
    make_client().post(invitation_link(mailbox, "orla@clinic.example"), join_form())
    application = db.session.scalar(select(LicenceApplication).order_by(LicenceApplication.id.desc()))

    page = text(signed_in(make_staff()).get(f"/staff/applications/{application.id}"))

    assert "Harbour Skin Clinic joining as a buyer" in page
    assert "Dr Maeve Byrne (owner)" in page
    assert "Same practice as an existing customer?" not in page


def test_a_used_withdrawn_or_expired_invitation_link_sends_the_visitor_to_apply_on_their_own(
    owner, make_client, mailbox
):
    browser, me = owner
    browser.post("/practice/invitations", {"email": "orla@clinic.example", "role": "buyer"})
    link = invitation_link(mailbox, "orla@clinic.example")
    invitation = db.session.scalar(select(Invitation))

    browser.post(f"/practice/invitations/{invitation.id}/cancel")
    visitor = make_client()
    refused = visitor.get(link)

    assert redirect_path(refused) == "/register"
    assert "expired, was withdrawn or was already used" in " ".join(m for _, m in flashes(visitor.get("/register")))
    assert make_client().post(link, join_form()).status_code == 302
    assert db.session.scalar(select(User).where(User.email == "orla@clinic.example")) is None
    browser.post("/practice/invitations", {"email": "orla@clinic.example", "role": "buyer"})
    fresh = invitation_link(mailbox, "orla@clinic.example")
    with time_machine.travel(clock.now() + timedelta(days=15)):
        assert redirect_path(make_client().get(fresh)) == "/register"


def test_a_link_works_once(owner, make_client, mailbox):
    browser, _ = owner
    browser.post("/practice/invitations", {"email": "orla@clinic.example", "role": "buyer"})
    link = invitation_link(mailbox, "orla@clinic.example")
    assert make_client().post(link, join_form()).status_code == 303

    again = make_client().post(link, join_form(full_name="Someone Else"))

    assert again.status_code == 302 and redirect_path(again) == "/register"
    assert db.session.scalar(select(db.func.count()).select_from(User).where(User.full_name == "Someone Else")) == 0


def test_an_invitation_to_an_address_with_an_account_says_to_log_in_and_creates_nothing(owner, make_client, mailbox):
    browser, _ = owner
    existing = make_clinician(email="orla@clinic.example", full_name="Dr Orla Elsewhere")
    browser.post("/practice/invitations", {"email": "orla@clinic.example", "role": "buyer"})

    response = make_client().post(invitation_link(mailbox, "orla@clinic.example"), join_form())

    assert response.status_code == 422
    assert "There is already an account under orla@clinic.example" in text(response)
    assert reload(existing).practice_id != owner[1].practice_id
    assert db.session.scalar(select(Invitation)).accepted_at is None


def test_a_join_form_with_mistakes_shows_them_next_to_the_fields_and_keeps_nothing(owner, make_client, mailbox):
    browser, _ = owner
    browser.post("/practice/invitations", {"email": "orla@clinic.example", "role": "buyer"})
    link = invitation_link(mailbox, "orla@clinic.example")

    response = make_client().post(
        link, join_form(licence_expiry="2001-01-01", profession="astronaut", password="password")
    )

    assert response.status_code == 422
    assert field_error(response, "profession") and field_error(response, "password")
    assert db.session.scalar(select(User).where(User.email == "orla@clinic.example")) is None
    assert db.session.scalar(select(Invitation)).accepted_at is None


@pytest.mark.parametrize(
    ("email", "message"),
    [("", "Enter your colleague's email address."), ("not an address", "Enter a valid email address")],
)
def test_an_invitation_to_a_bad_address_gets_a_message_next_to_the_field(owner, email, message):
    browser, _ = owner

    response = browser.post("/practice/invitations", {"email": email, "role": "buyer"})

    assert response.status_code == 422
    assert message in field_error(response, "email")
    assert db.session.scalar(select(Invitation)) is None


def test_inviting_a_member_again_is_refused_and_inviting_an_address_twice_renews_one_invitation(owner, mailbox):
    browser, me = owner
    colleague = make_clinician(practice_of=me, email="ciara@clinic.example")

    refused = browser.post("/practice/invitations", {"email": colleague.email, "role": "buyer"})
    browser.post("/practice/invitations", {"email": "new@clinic.example", "role": "buyer"})
    browser.post("/practice/invitations", {"email": "new@clinic.example", "role": "owner"})

    assert refused.status_code == 422 and "already a member" in field_error(refused, "email")
    [invitation] = db.session.scalars(select(Invitation)).all()
    assert invitation.role == PracticeRole.OWNER
    assert len(delivered(mailbox, "new@clinic.example", "invites you")) == 2


# --- roles ------------------------------------------------------------------------------------------


def test_a_buyer_sees_the_practice_but_cannot_manage_it(signed_in):
    me = make_clinician(full_name="Dr Maeve Byrne")
    buyer = make_clinician(practice_of=me, full_name="Nurse Orla Kelly")
    browser = signed_in(buyer)

    page = browser.get("/practice")
    invited = browser.post("/practice/invitations", {"email": "x@clinic.example", "role": "owner"})
    promoted = browser.post(f"/practice/members/{buyer.id}/role", {"role": "owner"})
    promotion_refused = flashes(browser.get("/practice"))
    removed = browser.post(f"/practice/members/{me.id}/remove")
    removal_refused = flashes(browser.get("/practice"))
    address = browser.post(
        "/practice/addresses", {"line1": "1 Main St", "city": "Cork", "postcode": "T12 AB12", "country": "IE"}
    )

    assert page.status_code == 200 and "Dr Maeve Byrne" in text(page) and "Invite a colleague" not in text(page)
    assert invited.status_code == 422 and "Only an owner" in text(invited)
    assert all(r.status_code == 303 for r in (promoted, removed))
    assert promotion_refused[0][0] == "error" and "Only an owner" in promotion_refused[0][1]
    assert removal_refused[0][0] == "error" and "Only an owner" in removal_refused[0][1]
    assert address.status_code == 422 and "Only an owner" in text(address)
    assert reload(buyer).practice_role == PracticeRole.BUYER and reload(me).practice_id == me.practice_id
    assert db.session.scalar(select(Invitation)) is None


def test_the_owner_makes_a_buyer_an_owner_and_the_practice_never_loses_its_last_owner(owner):
    browser, me = owner
    buyer = make_clinician(practice_of=me, full_name="Nurse Orla Kelly")

    browser.post(f"/practice/members/{me.id}/role", {"role": "buyer"})
    assert reload(me).practice_role == PracticeRole.OWNER
    assert "A practice needs an owner" in " ".join(m for _, m in flashes(browser.get("/practice")))

    browser.post(f"/practice/members/{buyer.id}/role", {"role": "owner"})
    assert reload(buyer).practice_role == PracticeRole.OWNER
    [event] = events_of(me.practice_id, "role_changed")
    assert event.actor_id == me.id and event.note == "Nurse Orla Kelly: Buyer → Owner."
    browser.post(f"/practice/members/{me.id}/role", {"role": "buyer"})
    assert reload(me).practice_role == PracticeRole.BUYER


@pytest.mark.parametrize("role", ["", "admin", "OWNER", "x" * 500])
def test_a_role_that_is_not_offered_changes_nothing(owner, role):
    browser, me = owner
    buyer = make_clinician(practice_of=me)

    response = browser.post(f"/practice/members/{buyer.id}/role", {"role": role})

    assert response.status_code == 303
    assert reload(buyer).practice_role == PracticeRole.BUYER
    assert flashes(browser.get("/practice"))[0][0] == "error"


def test_another_practices_member_or_invitation_is_a_404(owner, signed_in):
    browser, me = owner
    stranger = make_clinician(full_name="Dr Other Practice")
    other_owner = signed_in(stranger)
    other_owner.post("/practice/invitations", {"email": "theirs@clinic.example", "role": "buyer"})
    theirs = db.session.scalar(select(Invitation))

    assert browser.post(f"/practice/members/{stranger.id}/role", {"role": "buyer"}).status_code == 404
    assert browser.post(f"/practice/members/{stranger.id}/remove").status_code == 404
    assert browser.post(f"/practice/invitations/{theirs.id}/cancel").status_code == 404
    assert browser.post("/practice/members/99999999999/remove").status_code == 404
    assert reload(stranger).practice_id is not None and reload(theirs).cancelled_at is None
    assert "Dr Other Practice" not in text(browser.get("/practice"))


# --- orders of several members -------------------------------------------------------------------


def test_each_order_records_who_placed_it_under_which_licence_and_every_member_sees_it(signed_in):
    make_product(sku="VIT-1", price_cents=10_000, stock=20)
    me = make_clinician(full_name="Dr Maeve Byrne", on_account=True, licence_number="MCI-111")
    nurse = make_clinician(practice_of=me, full_name="Nurse Orla Kelly", licence_number="NMBI-222")
    fill_cart(nurse, ("VIT-1", 2))

    order = place_order(nurse)

    assert (order.placed_by_id, order.clinician_name, order.licence_number) == (
        nurse.id,
        "Nurse Orla Kelly",
        "NMBI-222",
    )
    assert order.practice_id == me.practice_id
    for member in (me, nurse):
        page = text(signed_in(member).get(f"/orders/{order.number}"))
        assert "Nurse Orla Kelly" in page
        assert order.number in text(signed_in(member).get("/orders"))


def test_prescription_only_products_are_checked_against_the_licence_of_the_clinician_who_orders():
    kybella = make_product(name="Kybella", sku="KYB-1", prescription_only=True)
    me = make_clinician(full_name="Dr Maeve Byrne")
    from shop.accounts.models import Profession

    nurse = make_clinician(practice_of=me, profession=Profession.REGISTERED_NURSE)

    carts.add_to_cart(me, kybella.variants[0].sku, 1)
    with pytest.raises(NotEligible, match="prescription-only"):
        carts.add_to_cart(nurse, kybella.variants[0].sku, 1)


def test_a_quote_records_the_licence_of_the_clinician_who_asked(signed_in):
    from tests.factories import ask

    make_product(sku="VIT-1")
    me = make_clinician(full_name="Dr Maeve Byrne", licence_number="MCI-111")
    nurse = make_clinician(practice_of=me, full_name="Nurse Orla Kelly", licence_number="NMBI-222")

    quote = ask(nurse, ("VIT-1", 5))

    assert (quote.contact_id, quote.licence_number) == (nurse.id, "NMBI-222")
    reload(nurse.application).licence_number = "NMBI-999"
    db.session.commit()
    assert reload(quote).licence_number == "NMBI-222"
    assert quote.number in text(signed_in(me).get("/quotes"))


# --- removing a member ----------------------------------------------------------------------------


def test_removing_a_member_keeps_their_orders_with_the_practice_and_closes_the_shop_to_them(owner, signed_in):
    browser, me = owner
    make_product(sku="VIT-1", price_cents=10_000, stock=20)
    nurse = make_clinician(practice_of=me, full_name="Nurse Orla Kelly")
    from tests.helpers import allow_account

    allow_account(me)
    fill_cart(nurse, ("VIT-1", 1))
    order = place_order(nurse)
    nurse_browser = signed_in(nurse)

    response = browser.post(f"/practice/members/{nurse.id}/remove")

    assert response.status_code == 303
    assert reload(nurse).practice_id is None and reload(nurse).practice_role is None
    assert reload(type(order), order.id).practice_id == me.practice_id
    assert "Nurse Orla Kelly" in text(browser.get(f"/orders/{order.number}"))
    closed = nurse_browser.get("/catalogue")
    assert redirect_path(closed) == "/account"
    assert "no longer a member of a practice" in " ".join(m for _, m in flashes(nurse_browser.get("/account")))
    assert nurse_browser.get(f"/orders/{order.number}").status_code == 302
    [event] = events_of(me.practice_id, "member_removed")
    assert "Nurse Orla Kelly" in event.note and event.actor_id == me.id


def test_the_only_owner_cannot_remove_themselves(owner):
    browser, me = owner

    browser.post(f"/practice/members/{me.id}/remove")

    assert reload(me).practice_id is not None
    assert "only owner" in " ".join(m for _, m in flashes(browser.get("/practice")))


def test_the_customers_desk_removes_a_member_and_it_is_audited(signed_in):
    me = make_clinician(full_name="Dr Maeve Byrne")
    nurse = make_clinician(practice_of=me, full_name="Nurse Orla Kelly")
    clerk = make_staff(full_name="Casey Clerk")
    from shop.access import Desk

    orders_only = signed_in(make_staff(desks={Desk.ORDERS}))
    assert orders_only.post(f"/staff/practices/{me.practice_id}/members/{nurse.id}/remove").status_code == 403
    assert "Remove from the practice" not in text(orders_only.get(f"/staff/practices/{me.practice_id}"))

    response = signed_in(clerk).post(f"/staff/practices/{me.practice_id}/members/{nurse.id}/remove")

    assert response.status_code == 303
    assert reload(nurse).practice_id is None
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "practice.member_removed")).all()
    assert entry.actor_id == clerk.id and entry.changes["member"] == [nurse.email, None]
    other = make_clinician()
    assert signed_in(clerk).post(f"/staff/practices/{me.practice_id}/members/{other.id}/remove").status_code == 404


# --- the owner's details ---------------------------------------------------------------------------


def test_the_owner_renames_the_practice_and_orders_keep_the_old_name(owner):
    browser, me = owner
    make_product(sku="VIT-1", price_cents=10_000, stock=20)
    from tests.helpers import allow_account

    allow_account(me)
    fill_cart(me, ("VIT-1", 1))
    order = place_order(me)

    response = browser.post("/practice/details", {"name": "Harbour Aesthetics", "phone": "+353 21 555 0199"})

    assert response.status_code == 303
    practice = reload(Practice, me.practice_id)
    assert (practice.name, practice.phone) == ("Harbour Aesthetics", "+353 21 555 0199")
    assert reload(type(order), order.id).practice_name == "Harbour Skin Clinic"
    [event] = events_of(me.practice_id, "details_changed")
    assert "Name: Harbour Skin Clinic → Harbour Aesthetics" in event.note


@pytest.mark.parametrize(
    ("fields", "field"), [({"name": "", "phone": "+353 1"}, "name"), ({"name": "Ok", "phone": "call me"}, "phone")]
)
def test_bad_details_get_a_message_next_to_the_field(owner, fields, field):
    browser, me = owner

    response = browser.post("/practice/details", fields)

    assert response.status_code == 422 and field_error(response, field)
    assert reload(Practice, me.practice_id).name == "Harbour Skin Clinic"


# --- the verification desk attaches an applicant ---------------------------------------------------


def test_the_desk_is_shown_a_practice_with_the_same_name_and_attaches_the_applicant_to_it(signed_in):
    from shop.practices.practices import PracticeDetails
    from tests.factories import make_applicant

    existing = make_clinician(full_name="Dr Maeve Byrne", practice_name="Harbour Skin Clinic")
    unrelated = make_clinician(practice_name="Lee Valley Aesthetics")
    applicant = make_applicant(
        full_name="Dr Ciara Nolan",
        practice=PracticeDetails(
            name="Harbour  Skin Clinic.",
            phone="+353 21 555 0101",
            line1="99 Other Street",
            city="Cork",
            postcode="T12 ZZ99",
            country="IE",
        ),
    )
    typed_in = applicant.practice_id
    clerk = make_staff(full_name="Robin Desk")
    desk = signed_in(clerk)
    application_url = f"/staff/applications/{applicant.application.id}"

    page = text(desk.get(application_url))

    assert "Same practice as an existing customer?" in page
    assert "Attach as a buyer of Harbour Skin Clinic" in page
    assert "Lee Valley Aesthetics" not in page
    assert reload(applicant).practice_id == typed_in, "nothing is attached until the desk chooses"

    response = desk.post(f"{application_url}/attach", {"practice_id": str(existing.practice_id)})

    assert response.status_code == 303
    moved = reload(applicant)
    assert moved.practice_id == existing.practice_id and moved.practice_role == PracticeRole.BUYER
    assert db.session.get(Practice, typed_in) is None
    assert reload(unrelated).practice_id is not None
    application = reload(LicenceApplication, applicant.application.id)
    assert application.status == ApplicationStatus.PENDING
    assert [e.action for e in application.events][-1] == "attached"
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "application.attached")).all()
    assert entry.actor_id == clerk.id and entry.changes["practice"][1] == "Harbour Skin Clinic"
    assert events_of(existing.practice_id, "member_attached")


def test_the_desk_can_find_a_practice_by_name_when_none_looks_the_same(signed_in):
    from tests.factories import make_applicant

    existing = make_clinician(practice_name="Lee Valley Aesthetics")
    applicant = make_applicant()
    desk = signed_in(make_staff())

    page = text(desk.get(f"/staff/applications/{applicant.application.id}?practice_q=lee valley"))

    assert "No existing practice has the same name or address." in page
    assert "Attach as a buyer of Lee Valley Aesthetics" in page
    assert existing.practice_id


def test_an_approved_clinician_is_not_moved_and_unknown_practices_are_404(signed_in):
    from tests.factories import make_applicant

    existing = make_clinician()
    applicant = make_applicant()
    desk = signed_in(make_staff())
    url = f"/staff/applications/{applicant.application.id}"

    assert desk.post(f"{url}/attach", {"practice_id": "99999999"}).status_code == 404
    assert desk.post(f"{url}/attach", {"practice_id": "999999999999999999"}).status_code == 303
    desk.post(f"{url}/approve", {"note": ""})
    desk.post(f"{url}/attach", {"practice_id": str(existing.practice_id)})

    assert reload(applicant).practice_id != existing.practice_id
    assert "not a new application" in " ".join(m for _, m in flashes(desk.get(url)))


def test_an_owner_cannot_flood_inboxes_with_invitations(owner, app):
    browser, _ = owner
    allowed = int(app.config["INVITATION_RATE_LIMIT"].split()[0])

    answers = [
        browser.post("/practice/invitations", {"email": f"colleague{n}@clinic.example", "role": "buyer"}).status_code
        for n in range(allowed + 1)
    ]

    assert answers[:allowed] == [303] * allowed and answers[allowed] == 429
