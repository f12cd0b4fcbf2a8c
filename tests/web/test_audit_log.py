"""The audit log: every staff action leaves one entry (who, when, from where, which record,
what changed), written with the change itself; admins search, filter, page and export it; and
nothing can change or remove an entry, in the shop or in the database."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from shop import clock
from shop.accounts.licences import LicenceApplication
from shop.accounts.models import Role
from shop.core import audit
from shop.core.audit import AuditEntry, AuditIsAppendOnly
from shop.core.outbox import OutboxMessage
from shop.extensions import db
from shop.ordering import orders
from tests.factories import (
    PASSWORD,
    clinician_with_cart,
    make_applicant,
    make_clinician,
    make_staff,
    make_variant,
    place_order,
    simple_quote,
)
from tests.helpers import field_error, statements_during
from tests.helpers import text as page_text


def an_order():
    make_variant("AUD-1", price_cents=10_000, stock=50)
    clinician = clinician_with_cart(("AUD-1", 1))
    return clinician, place_order(clinician)


def listed(response) -> str:
    """The text of the log's table (not of its filter choices)."""
    body = page_text(response)
    return body[body.index("What changed") :] if "What changed" in body else body[body.index("No entries") :]


def entries(action: str | None = None) -> list[AuditEntry]:
    db.session.rollback()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


@pytest.fixture
def admin(signed_in):
    member = make_staff(role=Role.ADMIN, full_name="Alex Admin", email="alex.admin@supplier.example")
    return signed_in(member), member


@pytest.fixture
def desk(signed_in):
    member = make_staff(email="desk@supplier.example", full_name="Jordan Lee")
    return signed_in(member), member


# --- what is recorded --------------------------------------------------------------------------


def test_a_decision_on_an_application_is_recorded_with_who_where_what_and_the_change(desk):
    browser, member = desk
    applicant = make_applicant(full_name="Dr Niamh Walsh")
    browser.raw.environ_base["REMOTE_ADDR"] = "198.51.100.23"

    browser.post(f"/staff/applications/{applicant.application.id}/approve", {"note": "Checked with the board."})

    [entry] = entries("application.approved")
    assert entry.actor_id == member.id and entry.actor_email == "desk@supplier.example"
    assert entry.ip_address == "198.51.100.23"
    assert (entry.object_type, entry.object_id) == ("application", str(applicant.application.id))
    assert entry.object_label == f"Application #{applicant.application.id} (Dr Niamh Walsh)"
    assert entry.changes == {"status": ["pending", "approved"]}
    assert entry.note == "Checked with the board."
    assert abs(entry.created_at - clock.now()) < timedelta(seconds=5)


def test_the_records_own_history_and_the_log_agree(desk):
    browser, _ = desk
    applicant = make_applicant()
    application_id = applicant.application.id
    browser.post(f"/staff/applications/{application_id}/request-info", {"message": "A clearer scan, please."})
    browser.post(f"/staff/applications/{application_id}/reject", {"reason": "Not a licence."})
    logged = [e for e in entries() if e.object_type == "application"]
    application = db.session.get(LicenceApplication, application_id)
    by_staff = [e for e in application.events if e.actor is not None and e.actor.is_staff]
    assert len(by_staff) == 2
    assert [(f"application.{e.action}", e.note, e.to_status) for e in by_staff] == [
        (entry.action, entry.note, entry.changes["status"][1]) for entry in logged
    ]


def test_changing_a_practices_credit_terms_records_before_and_after(desk):
    browser, member = desk
    clinician = make_clinician(on_account=True)
    practice = clinician.practice
    before_limit = practice.credit_limit_cents

    browser.post(
        f"/staff/practices/{practice.id}",
        {"on_account": "y", "payment_terms_days": "45", "credit_limit": "10000000"},
    )

    [entry] = entries("practice.terms_changed")
    assert entry.actor_id == member.id
    assert entry.object_label == f"Practice {practice.name}"
    assert entry.changes["credit_limit_cents"] == [before_limit, 1_000_000_000]
    assert entry.changes["payment_terms_days"] == [30, 45]
    assert "on_account" not in entry.changes, "only what changed"


def test_order_transitions_by_staff_are_recorded_and_the_clinicians_own_steps_are_not(desk):
    browser, member = desk
    _, order = an_order()
    assert [e for e in entries() if e.object_type == "order"] == [], "placing it was the clinician's act"

    browser.post(f"/staff/orders/{order.number}/confirm")

    [entry] = entries("order.confirmed")
    assert entry.object_label == f"Order {order.number}" and entry.actor_id == member.id
    assert entry.changes == {"status": ["placed", "processing"]}


def test_sending_a_quote_is_recorded():
    setup = simple_quote()
    [entry] = entries("quote.sent")
    assert entry.actor_id == setup.staff.id and setup.quote.number in entry.object_label


def test_staff_accounts_are_recorded_invited_deactivated_and_reactivated(admin, mailbox):
    browser, me = admin
    browser.post(
        "/staff/users",
        {"full_name": "Casey New", "email": "casey@supplier.example", "role": "staff", "desks": ["orders", "quotes"]},
    )
    [invited] = entries("staff.invited")
    assert invited.actor_id == me.id and invited.changes == {"role": [None, "staff"], "desks": [None, "orders,quotes"]}
    member_id = int(invited.object_id)

    browser.post(f"/staff/users/{member_id}/deactivate")
    browser.post(f"/staff/users/{member_id}/reactivate")

    assert [e.changes for e in entries("staff.deactivated")] == [{"active": [True, False]}]
    assert [e.changes for e in entries("staff.reactivated")] == [{"active": [False, True]}]


def test_a_second_factor_reset_is_recorded(admin):
    browser, me = admin
    colleague = make_staff(email="lost@supplier.example", full_name="Morgan Lost")
    browser.post(f"/staff/users/{colleague.id}/reset-second-factor")
    [entry] = entries("user.second_factor_reset")
    assert entry.actor_id == me.id and entry.object_label == "Morgan Lost <lost@supplier.example>"


def test_back_office_logins_and_failed_logins_are_recorded(make_client):
    member = make_staff(email="desk@supplier.example")
    make_client().login("desk@supplier.example", PASSWORD)
    wrong = make_client()
    wrong.raw.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    wrong.post("/login", {"email": "desk@supplier.example", "password": "Not-the-password-1"})
    coded = make_client()
    coded.post("/login", {"email": "desk@supplier.example", "password": PASSWORD})
    coded.post("/login/code", {"code": "000000"})

    [login] = entries("staff.logged_in")
    assert login.actor_id == member.id
    [failed] = entries("staff.login_failed")
    assert failed.actor_id is None and failed.object_id == str(member.id) and failed.ip_address == "203.0.113.66"
    assert len(entries("staff.login_code_failed")) == 1


def test_a_clinicians_logins_are_not_in_the_audit_log(make_client):
    make_clinician(email="ana@clinic.example")
    make_client().login("ana@clinic.example", PASSWORD)
    make_client().post("/login", {"email": "ana@clinic.example", "password": "Wrong-password-1"})
    assert entries() == [], "the log is of staff actions"


def test_sending_a_message_again_is_recorded(desk):
    browser, member = desk
    make_applicant(email="stuck@clinic.example")
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == "stuck@clinic.example")
    ).first()
    browser.post(f"/staff/mail/{message.id}/retry")
    [entry] = entries("mail.sent_again")
    assert entry.actor_id == member.id and "stuck@clinic.example" in entry.object_label


# --- append-only -------------------------------------------------------------------------------


@pytest.fixture
def an_entry(ctx) -> int:
    staff = make_staff(second_factor=False)
    entry = audit.record(staff, "test.done", staff, {"x": (1, 2)})
    db.session.commit()
    return entry.id


def test_the_shop_cannot_edit_an_entry(an_entry):
    entry = db.session.get(AuditEntry, an_entry)
    entry.note = "rewritten"
    with pytest.raises(AuditIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEntry, an_entry).note == ""


def test_the_shop_cannot_delete_an_entry(an_entry):
    db.session.delete(db.session.get(AuditEntry, an_entry))
    with pytest.raises(AuditIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(AuditIsAppendOnly):
        db.session.execute(update(AuditEntry).values(note="rewritten"))
    with pytest.raises(AuditIsAppendOnly):
        db.session.execute(delete(AuditEntry))
    db.session.rollback()
    assert db.session.get(AuditEntry, an_entry) is not None


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET note = 'rewritten'", "DELETE FROM audit_log"], ids=["update", "delete"]
)
def test_the_database_itself_refuses_to_change_or_remove_an_entry(an_entry, statement):
    """Below the shop, straight SQL on the connection: the migration's trigger refuses it."""
    with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text(statement))
    db.session.rollback()
    entry = db.session.get(AuditEntry, an_entry)
    assert entry is not None and entry.note == ""


# --- reading it ---------------------------------------------------------------------------------


@pytest.fixture
def logged(desk, ctx):
    """A few entries by two people, on two days."""
    _, member = desk
    other = make_staff(email="other@supplier.example")
    order_owner, order = an_order()
    orders.confirm(order, member)
    with db.session.no_autoflush:
        audit.record(other, "practice.terms_changed", order_owner.practice, {"credit_limit_cents": (0, 5)})
    db.session.commit()
    return member, other, order


def test_admins_read_the_log_newest_first_and_staff_cannot(admin, logged, desk):
    browser, _ = admin
    member, other, order = logged
    page = browser.get("/staff/audit")
    assert page.status_code == 200
    body = listed(page)
    assert body.index("practice.terms_changed") < body.index("order.confirmed")
    assert f"Order {order.number}" in body and "status: placed → processing" in body
    staff_browser, _ = desk
    assert staff_browser.get("/staff/audit").status_code == 403
    assert staff_browser.get("/staff/audit.csv").status_code == 403


def test_the_log_is_filtered_by_who_what_which_record_and_when(admin, logged):
    browser, _ = admin
    member, other, order = logged
    by_other = listed(browser.get(f"/staff/audit?actor={other.id}"))
    assert "practice.terms_changed" in by_other and "order.confirmed" not in by_other
    only_confirmed = listed(browser.get("/staff/audit?action=order.confirmed"))
    assert "order.confirmed" in only_confirmed and "practice.terms_changed" not in only_confirmed
    assert "practice.terms_changed" not in listed(browser.get("/staff/audit?object_type=order"))
    searched = listed(browser.get(f"/staff/audit?q={order.number.lower()}"))
    assert "order.confirmed" in searched and "practice.terms_changed" not in searched
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    assert "No entry matches these filters." in listed(browser.get(f"/staff/audit?since={tomorrow}"))
    assert "order.confirmed" in listed(browser.get(f"/staff/audit?until={clock.today().isoformat()}"))


def test_a_bad_date_in_the_filter_is_said_next_to_it(admin, logged):
    browser, _ = admin
    response = browser.get("/staff/audit?since=yesterday&actor=1%20OR%201=1")
    assert response.status_code == 422
    assert field_error(response, "since") == "Enter the date as YYYY-MM-DD."


def test_the_log_is_paginated(admin, app, monkeypatch):
    browser, me = admin
    monkeypatch.setitem(app.config, "STAFF_PAGE_SIZE", 5)
    for n in range(12):
        audit.record(me, "test.numbered", me, note=f"entry {n:02d}")
    db.session.commit()
    first = listed(browser.get("/staff/audit?action=test.numbered"))
    third = listed(browser.get("/staff/audit?action=test.numbered&page=3"))
    assert "entry 11" in first and "entry 06" not in first
    assert "entry 01" in third and "entry 00" in third


def test_the_csv_export_holds_the_filtered_entries_and_neutralises_formulas(admin):
    browser, me = admin
    audit.record(me, "test.formula", me, note='=HYPERLINK("http://evil.example")', label="+SUM(A1)")
    audit.record(me, "test.other", me, note="plain")
    db.session.commit()

    response = browser.get("/staff/audit.csv?action=test.formula")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith("\ufeff".encode())  # a spreadsheet then reads it as UTF-8
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["when", "who", "address", "action"]
    [row] = rows[1:]
    assert row[3] == "test.formula"
    assert row[6] == "'+SUM(A1)"
    assert row[8] == '\'=HYPERLINK("http://evil.example")'


def test_the_log_page_costs_the_same_number_of_statements_however_long_it_is(admin, app, monkeypatch):
    monkeypatch.setitem(app.config, "STAFF_PAGE_SIZE", 5)  # a full page from the start: counted
    browser, me = admin
    for n in range(6):
        audit.record(me, f"test.one{n}", me)
    db.session.commit()
    few = statements_during(lambda: browser.get("/staff/audit"))
    for n in range(30):
        audit.record(me, f"test.many{n % 3}", me, {"n": (n, n + 1)})
    db.session.commit()
    many = statements_during(lambda: browser.get("/staff/audit"))
    assert many == few


def test_a_staff_member_with_a_second_factor_set_up_is_recorded(make_client):
    member = make_staff(email="new@supplier.example", second_factor=False)
    make_client().login("new@supplier.example", PASSWORD)
    [entry] = entries("staff.second_factor_set_up")
    assert entry.actor_id == member.id


def test_the_quotes_desks_draft_work_is_recorded():
    setup = simple_quote()
    drafts = entries("quote.draft_saved")
    assert drafts and all(e.actor_id == setup.staff.id for e in drafts)
    assert any("total_cents" in e.changes for e in drafts), "the prices the desk set are on record"
