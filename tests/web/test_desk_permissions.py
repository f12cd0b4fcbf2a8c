"""Desk permissions: an admin gives each staff member the desks they work; they see and act
only there (with read-only context pages where a desk needs them), their dashboard counts only
their desks, and every change of a colleague's desks is in the audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop.access import WORK_DESKS, Desk
from shop.accounts import users as accounts
from shop.accounts.models import Role, User
from shop.core.audit import AuditEntry
from shop.extensions import db
from tests.factories import PASSWORD, make_applicant, make_clinician, make_staff
from tests.helpers import flashes, text


def reloaded(user_id: int) -> User:
    db.session.rollback()
    return db.session.get(User, user_id)


def nav(browser) -> list[str]:
    html = browser.get("/staff").get_data(as_text=True)
    menu = html[html.index('aria-label="Back office"') : html.index("</nav>", html.index('aria-label="Back office"'))]
    return re.findall(r">([^<>]+)</a></li>", menu)


@pytest.fixture
def admin(signed_in):
    member = make_staff(role=Role.ADMIN, full_name="Alex Admin", email="alex.admin@supplier.example")
    return signed_in(member), member


def test_an_admin_gives_a_colleague_their_desks_and_it_is_audited(admin, signed_in):
    browser, me = admin
    colleague = make_staff(email="casey@supplier.example", full_name="Casey Clerk")
    theirs = signed_in(colleague)
    assert theirs.get("/staff/applications").status_code == 200

    response = browser.post(f"/staff/users/{colleague.id}/desks", {f"m{colleague.id}-desks": ["orders", "customers"]})

    assert response.status_code == 303
    assert reloaded(colleague.id).desks == {Desk.ORDERS, Desk.CUSTOMERS}
    assert any("Casey Clerk now works" in message for _, message in flashes(browser.get("/staff/users")))
    assert theirs.get("/staff/applications").status_code == 403
    assert theirs.get("/staff/orders").status_code == 200
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.desks_changed")).all()
    assert entry.actor_id == me.id and entry.object_id == str(colleague.id)
    assert entry.changes == {"desks": ["customers,orders,quotes,verification", "customers,orders"]}


def test_only_an_admin_changes_desks_and_an_admins_own_cannot_be_narrowed(admin, signed_in):
    browser, me = admin
    clerk = make_staff(email="clerk@supplier.example")
    assert signed_in(clerk).post(f"/staff/users/{clerk.id}/desks", {f"m{clerk.id}-desks": ["audit"]}).status_code == 403
    assert Desk.AUDIT not in reloaded(clerk.id).desks

    browser.post(f"/staff/users/{me.id}/desks", {f"m{me.id}-desks": ["orders"]})
    assert reloaded(me.id).works(Desk.VERIFICATION), "administrators work every desk"


def test_a_staff_member_sees_only_their_desks_in_the_menu_and_on_the_dashboard(signed_in):
    clerk = make_staff(email="orders@supplier.example", desks={Desk.ORDERS})
    make_applicant(email="waiting@clinic.example")
    browser = signed_in(clerk)

    assert nav(browser) == ["Overview", "Orders", "Invoices", "Practices", "Supplies", "Lots", "Mail"]
    dashboard = text(browser.get("/staff"))
    assert "orders to confirm" in dashboard and "emails not yet delivered" in dashboard
    assert "application to review" not in dashboard and "quote requests" not in dashboard


def test_another_desks_context_page_is_read_only(signed_in):
    clinician = make_clinician(on_account=True)
    clerk = signed_in(make_staff(email="orders@supplier.example", desks={Desk.ORDERS}))
    practice_page = clerk.get(f"/staff/practices/{clinician.practice_id}")
    assert practice_page.status_code == 200
    assert "Save terms" not in text(practice_page) and "The customers desk changes" in text(practice_page)

    refused = clerk.post(
        f"/staff/practices/{clinician.practice_id}",
        {"on_account": "y", "payment_terms_days": "90", "credit_limit": "9999999"},
    )

    assert refused.status_code == 403
    db.session.rollback()
    assert db.session.get(User, clinician.id).practice.payment_terms_days == 30


def test_the_audit_log_is_for_admins_and_those_given_it(signed_in):
    auditor = signed_in(make_staff(email="auditor@supplier.example", desks={Desk.AUDIT}))
    clerk = signed_in(make_staff(email="clerk@supplier.example"))
    assert auditor.get("/staff/audit").status_code == 200
    assert auditor.get("/staff/orders").status_code == 403
    assert clerk.get("/staff/audit").status_code == 403


def test_an_invitation_gives_the_desks_the_admin_ticked(admin):
    browser, _ = admin
    page = browser.get("/staff/users").get_data(as_text=True)
    for desk in WORK_DESKS:
        assert re.search(rf'<input checked id="desks-\d" name="desks" type="checkbox" value="{desk.value}">', page)
    browser.post(
        "/staff/users",
        {"full_name": "Quinn Quotes", "email": "quinn@supplier.example", "role": "staff", "desks": ["quotes"]},
    )
    db.session.rollback()
    invited = db.session.scalar(select(User).where(User.email == "quinn@supplier.example"))
    assert invited.desks == {Desk.QUOTES}


def test_an_account_made_from_the_command_line_works_the_daily_desks():
    user = accounts.create_user(email="ops@supplier.example", password=PASSWORD, role=Role.STAFF)
    assert user.desks == WORK_DESKS
    admin = accounts.create_user(email="boss@supplier.example", password=PASSWORD, role=Role.ADMIN)
    assert all(admin.works(desk) for desk in Desk)


def test_an_admin_changes_a_colleagues_role_and_it_is_audited(admin, signed_in):
    browser, me = admin
    colleague = make_staff(email="casey@supplier.example", full_name="Casey Clerk")
    browser.post(f"/staff/users/{colleague.id}/role")
    assert reloaded(colleague.id).is_admin
    assert signed_in(reloaded(colleague.id)).get("/staff/users").status_code == 200
    browser.post(f"/staff/users/{colleague.id}/role")
    assert not reloaded(colleague.id).is_admin
    changes = [
        e.changes
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "staff.role_changed").order_by(AuditEntry.id)
        )
    ]
    assert changes == [{"role": ["staff", "admin"]}, {"role": ["admin", "staff"]}], "desks kept as they were"


def test_an_administrator_made_staff_works_the_daily_desks(admin):
    browser, _ = admin
    boss = make_staff(role=Role.ADMIN, email="boss@supplier.example")
    browser.post(f"/staff/users/{boss.id}/role")
    assert reloaded(boss.id).desks == WORK_DESKS


def test_nobody_changes_their_own_role(admin):
    browser, me = admin
    response = browser.post(f"/staff/users/{me.id}/role")
    assert ("error", "Another administrator must change your own role.") in flashes(browser.get(response.location))
    assert reloaded(me.id).is_admin
