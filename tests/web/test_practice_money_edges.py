"""The edges of a practice's money and membership: a refund after a cancellation that already
credited the invoice, an order settled before invoices existed, packs that would cost more than
is left to credit, a card payment that did not match its order, a demoted owner acting at the
same moment, a member who left and is invited back, documents never sent to someone who left,
and odd characters in the desks' inputs."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from shop import clock
from shop.access import Desk
from shop.accounts.models import User
from shop.errors import NotEligible
from shop.extensions import db
from shop.invoicing import balances, credit_notes
from shop.invoicing.credit_notes import Credit
from shop.ordering import orders
from shop.ordering.models import CancelCause, Order, OrderStatus, PaymentMethod
from shop.practices import members
from shop.practices.models import PracticeRole
from tests.factories import (
    PASSWORD,
    fill_cart,
    invoiced_order,
    make_clinician,
    make_finance_clerk,
    make_staff,
    make_variant,
    place_order,
)
from tests.helpers import delivered, flashes, redirect_path, reload, text


def card_order_paid(clinician=None) -> Order:
    clinician = clinician or make_clinician()
    make_variant("CARD-1", price_cents=10_000, stock=10)
    fill_cart(clinician, ("CARD-1", 1))
    order = place_order(clinician, method=PaymentMethod.CARD)
    orders.move(order, OrderStatus.PAID, None, "paid", "Paid.", paid_at=clock.now(), stripe_payment_intent="pi_1")
    orders.invoice_if_sold(order, None)
    db.session.commit()
    return reload(Order, order.id)


def test_a_card_order_cancelled_then_refunded_records_the_money_paid_back():
    order = card_order_paid()
    desk = make_staff()

    orders.cancel(order, desk, "Out of stock at the supplier.", CancelCause.STAFF)
    assert balances.practice_balance(order.practice_id) == -order.total_cents, "in credit until refunded"
    orders.mark_refunded(reload(Order, order.id), desk, "re_123 refunded in Stripe")

    invoice = reload(Order, order.id).invoice
    assert [p.amount_cents for p in invoice.payments] == [order.total_cents, -order.total_cents]
    assert invoice.outstanding_cents == 0 and balances.practice_balance(order.practice_id) == 0


def test_an_order_settled_before_invoices_were_kept_is_never_invoiced_again():
    clinician = make_clinician(on_account=True)
    make_variant("OLD-1", stock=10)
    fill_cart(clinician, ("OLD-1", 1))
    order = place_order(clinician)
    db.session.execute(update(Order).where(Order.id == order.id).values(invoice_settled_at=clock.now()))
    db.session.commit()

    orders.confirm(reload(Order, order.id), make_staff())

    assert reload(Order, order.id).invoice is None


def test_packs_that_would_cost_more_than_is_left_to_credit_are_refused_not_taxed_negatively():
    invoice = invoiced_order(lines=(("INV-1", 3),), price_cents=9_999).invoice
    clerk = make_finance_clerk()
    credit_notes.issue_credit_note(clerk, invoice, Credit(reason="Goodwill.", amount_cents=36_000))

    with pytest.raises(NotEligible, match="credit an amount instead"):
        credit_notes.issue_credit_note(
            clerk, reload(invoice), Credit(reason="A pack back.", quantities={invoice.lines[0].id: 1})
        )
    db.session.rollback()
    assert all(note.tax_cents >= 0 for note in reload(invoice).credit_notes)


def test_a_card_payment_that_did_not_match_is_invoiced_for_the_finance_desk_to_reconcile():
    clinician = make_clinician()
    make_variant("CARD-1", price_cents=10_000, stock=10)
    fill_cart(clinician, ("CARD-1", 1))
    order = place_order(clinician, method=PaymentMethod.CARD)
    problem = "Stripe reports 100 eur"
    orders.move(order, OrderStatus.ON_HOLD, None, "payment_mismatch", problem, hold_reason=problem, paid_at=clock.now())
    db.session.commit()

    orders.release_hold(reload(Order, order.id), make_staff(), "Difference paid by transfer.")

    invoice = reload(Order, order.id).invoice
    assert invoice.payments == [] and invoice.outstanding_cents == order.total_cents
    assert "finance desk records it" in invoice.terms


def test_an_owner_demoted_a_moment_ago_no_longer_acts_as_an_owner():
    owner = make_clinician()
    second = make_clinician(practice_of=owner, practice_role=PracticeRole.OWNER)
    buyer = make_clinician(practice_of=owner)
    stale = reload(second)
    assert stale.practice_role == PracticeRole.OWNER
    db.session.execute(update(User).where(User.id == second.id).values(practice_role=PracticeRole.BUYER))
    db.session.flush()

    with pytest.raises(NotEligible, match="Only an owner"):
        members.remove_member(stale, stale.practice, buyer.id)

    assert reload(buyer).practice_id == owner.practice_id


def test_a_member_who_left_is_invited_back_and_joins_with_their_account(signed_in, make_client, mailbox):
    owner = make_clinician(full_name="Dr Maeve Byrne", practice_name="Harbour Skin Clinic")
    leaver = make_clinician(practice_of=owner, email="orla@clinic.example")
    members.remove_member(reload(owner), reload(owner).practice, leaver.id)
    signed_in(owner).post("/practice/invitations", {"email": "orla@clinic.example", "role": "buyer"})
    [message] = delivered(mailbox, "orla@clinic.example", "invites you")
    link = "/register/join/" + message.get_body(("plain",)).get_content().split("/register/join/")[1].split()[0]
    visitor = make_client()

    form = text(visitor.get(link))
    assert "Already have an account under orla@clinic.example" in form
    browser = signed_in(reload(leaver))
    page = text(browser.get(link))
    assert "Join with this account" in page
    joined = browser.post(link)

    assert redirect_path(joined) == "/start"
    assert (reload(leaver).practice_id, reload(leaver).practice_role) == (owner.practice_id, PracticeRole.BUYER)
    assert browser.get("/catalogue").status_code == 200


def test_invoices_and_credit_notes_never_go_to_someone_who_left_the_practice(mailbox):
    owner = make_clinician(on_account=True, full_name="Dr Maeve Byrne")
    leaver = make_clinician(practice_of=owner, email="gone@clinic.example")
    invoice = invoiced_order(leaver).invoice
    mailbox.clear()
    members.remove_member(reload(owner), reload(owner).practice, leaver.id)

    credit_notes.issue_credit_note(make_finance_clerk(), reload(invoice), Credit(reason="Goodwill.", amount_cents=500))

    assert delivered(mailbox, "gone@clinic.example", "Credit note") == []
    assert delivered(mailbox, owner.email, "Credit note")


@pytest.mark.parametrize(
    "url", ["/staff/orders/new?practice=²", "/staff/invoices?practice=²", "/staff/invoices?practice=١٢"]
)
def test_digits_from_other_scripts_in_a_desks_address_bar_are_no_error(signed_in, url):
    desk = signed_in(make_staff(desks={Desk.ORDERS, Desk.FINANCE}))

    assert desk.get(url).status_code in (200, 404)


def test_odd_characters_in_the_desks_forms_get_a_message(signed_in):
    order = invoiced_order(lines=(("INV-1", 2),))
    clerk = signed_in(make_finance_clerk())
    line_id = order.invoice.lines[0].id

    credited = clerk.post(
        f"/staff/invoices/{order.invoice.number}/credit-notes",
        {"reason": "x", "credit": "lines", f"packs-{line_id}": "²"},
    )
    checked = clerk.post(
        "/staff/orders/new/check",
        {"practice_id": str(order.practice_id), "clinician_id": str(order.placed_by_id), "lines": "abc\x00def 2"},
    )

    assert credited.status_code == 422 and "whole number of packs" in text(credited)
    assert checked.status_code == 200 and checked.get_json()["ok"] is False


def test_a_second_factor_code_in_other_digits_is_simply_wrong(make_client):
    staff = make_staff(email="desk@supplier.example")
    browser = make_client()
    browser.post("/login", {"email": staff.email, "password": PASSWORD})

    response = browser.post("/login/code", {"code": "²²²²²²"})

    assert response.status_code in (200, 422)
    assert "/staff" not in (response.headers.get("Location") or "")


def test_a_clerk_on_the_finance_desk_alone_opens_practices_and_sends_statements(signed_in, mailbox):
    owner = make_clinician(on_account=True)
    invoiced_order(owner)
    finance_only = signed_in(make_staff(desks={Desk.FINANCE}))

    page = finance_only.get(f"/staff/practices/{owner.practice_id}")
    sent = finance_only.post(f"/staff/practices/{owner.practice_id}/statement")
    landing = finance_only.get(redirect_path(sent))

    assert page.status_code == 200 and "Email the statement to the owners" in text(page)
    assert landing.status_code == 200
    assert ("success", "The statement is emailed to the practice&#39;s owners.") in flashes(landing)
    assert delivered(mailbox, owner.email, "Statement")
