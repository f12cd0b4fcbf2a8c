"""The operator's command line: `flask --app wsgi create-user | seed-demo | send-mail | mail-worker`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from shop import clock
from shop.accounts.licences import ApplicationStatus, LicenceApplication
from shop.accounts.models import Role, User
from shop.accounts.users import request_password_reset
from shop.catalogue.models import Brand, Category, Product, Variant
from shop.core.outbox import OutboxMessage
from shop.extensions import db
from shop.practices.models import Address, Practice
from tests.factories import PASSWORD, make_clinician, make_product, make_staff
from tests.helpers import command_env, redirect_path, row_count

ROOT = Path(__file__).resolve().parents[2]


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


# --- create-user ------------------------------------------------------------------------


def test_create_user_verified_makes_a_clinician_who_can_open_the_catalogue_at_once(cli, client):
    result = cli(
        "create-user", "--email", "Dr.Kelly@Bayview-Clinic.example", "--password", PASSWORD,
        "--role", "clinician", "--name", "Dr Orla Kelly", "--verified",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Created clinician dr.kelly@bayview-clinic.example (verified)" in result.output

    user = _user("dr.kelly@bayview-clinic.example")
    assert user.full_name == "Dr Orla Kelly"
    assert user.role == Role.CLINICIAN
    assert user.application.status == ApplicationStatus.APPROVED
    assert user.practice is not None
    assert len(user.practice.addresses) == 1

    response = client.login("dr.kelly@bayview-clinic.example", PASSWORD)
    assert redirect_path(response) == "/catalogue"
    assert client.get("/catalogue").status_code == 200


def test_create_user_without_verified_makes_a_clinician_who_waits_for_review(cli, client):
    result = cli("create-user", "--email", "new@clinic.example", "--password", PASSWORD, "--role", "clinician")
    assert result.exit_code == 0, result.output
    assert "(verified)" not in result.output
    client.login("new@clinic.example", PASSWORD)
    response = client.get("/catalogue")
    assert response.status_code == 302
    assert redirect_path(response) == "/account"


@pytest.mark.parametrize(("role", "page"), [("staff", "/staff"), ("admin", "/staff/users")])
def test_create_user_makes_back_office_accounts(cli, client, role, page):
    result = cli("create-user", "--email", f"{role}@supplier.example", "--password", PASSWORD, "--role", role)
    assert result.exit_code == 0, result.output
    assert f"Created {role} {role}@supplier.example" in result.output
    client.login(f"{role}@supplier.example", PASSWORD)
    assert client.get(page).status_code == 200


def test_create_user_with_a_taken_email_is_a_clean_error(cli):
    first = cli("create-user", "--email", "desk@supplier.example", "--password", PASSWORD, "--role", "staff")
    assert first.exit_code == 0, first.output
    again = cli("create-user", "--email", "DESK@supplier.example", "--password", PASSWORD, "--role", "admin")
    assert again.exit_code == 1
    assert "Error: An account with desk@supplier.example already exists." in again.output
    assert "Traceback" not in again.output
    assert isinstance(again.exception, SystemExit)
    assert row_count(User) == 1
    assert _user("desk@supplier.example").role == Role.STAFF


def test_create_user_verified_for_staff_is_a_clean_error(cli):
    result = cli(
        "create-user", "--email", "desk@supplier.example", "--password", PASSWORD, "--role", "staff", "--verified"
    )
    assert result.exit_code == 1
    assert "Error: Only clinicians carry a licence" in result.output
    assert row_count(User) == 0


def test_create_user_refuses_an_unknown_role(cli):
    result = cli("create-user", "--email", "x@clinic.example", "--password", PASSWORD, "--role", "owner")
    assert result.exit_code == 2
    assert "'owner' is not one of 'clinician', 'staff', 'admin'" in result.output
    assert row_count(User) == 0


def test_create_user_warns_about_a_weak_password_chosen_by_an_operator(cli):
    result = cli("create-user", "--email", "desk@supplier.example", "--password", "password1234", "--role", "staff")
    assert result.exit_code == 0
    assert "Warning: This password is on the list of commonly used passwords." in result.stderr
    assert _user("desk@supplier.example") is not None


def test_the_flask_command_creates_a_user_in_the_configured_database(database_url, tmp_path):
    """The documented command itself, in its own process, configured by the environment."""
    env = command_env(database_url, tmp_path)
    env.pop("MAIL_SERVER", None)
    completed = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "create-user", "--email", "cli@clinic.example",
         "--password", PASSWORD, "--role", "clinician", "--verified"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "Created clinician cli@clinic.example (verified)" in completed.stdout
    user = _user("cli@clinic.example")
    assert user.is_verified(clock.today())


# --- seed-demo --------------------------------------------------------------------------


def _demo_counts() -> dict[str, int]:
    models = (User, Practice, Address, LicenceApplication, OutboxMessage, Category, Brand, Product, Variant)
    return {model.__name__: row_count(model) for model in models}


def _printed_logins(output: str) -> list[tuple[str, str]]:
    return re.findall(r"(\S+@\S+)\s+password: (\S+)", output)


def test_seed_demo_loads_the_catalogue_and_the_demo_accounts_and_prints_their_logins(cli):
    result = cli("seed-demo")
    assert result.exit_code == 0, result.output
    assert "Demo logins:" in result.output
    logins = _printed_logins(result.output)
    assert len(logins) >= 4
    for role in ("admin", "staff", "verified clinician", "pending applicant"):
        assert role in result.output
    counts = _demo_counts()
    assert counts["Product"] >= 18
    assert counts["User"] == len(logins)


def test_seed_demo_run_twice_keeps_the_same_counts(cli):
    first = cli("seed-demo")
    assert first.exit_code == 0, first.output
    counts = _demo_counts()
    second = cli("seed-demo")
    assert second.exit_code == 0, second.output
    assert _demo_counts() == counts
    assert _printed_logins(second.output) == _printed_logins(first.output)


def test_the_demo_practice_has_an_owner_and_a_buyer_who_is_a_nurse(cli):
    cli("seed-demo")
    cli("seed-demo")
    owner = db.session.scalar(select(User).where(User.email == "dr.ruiz@harbour-clinic.example"))
    roles = {
        member.email: (member.practice_role.value, member.application.profession.value)
        for member in owner.practice.members
    }
    assert roles == {
        "dr.ruiz@harbour-clinic.example": ("owner", "physician"),
        "liam.walsh@harbour-clinic.example": ("buyer", "registered_nurse"),
    }


def test_every_printed_demo_login_works(cli, make_client):
    result = cli("seed-demo")
    landings = {}
    for email, password in _printed_logins(result.output):
        response = make_client().post("/login", {"email": email, "password": password})
        assert response.status_code == 303, f"demo login {email} does not work"
        landings[email] = redirect_path(response)
    # Staff accounts set up their authenticator app at their first login.
    # The owner and the colleague of the demo practice land in the catalogue.
    assert sorted(landings.values()) == sorted(["/login/enrol", "/login/enrol", "/catalogue", "/catalogue", "/account"])


# --- send-mail --------------------------------------------------------------------------


def test_send_mail_says_so_when_nothing_is_due(cli, mailbox):
    result = cli("send-mail")
    assert result.exit_code == 0
    assert result.output.strip() == "0 sent, 0 failed"
    assert mailbox.messages == []


# --- mail-worker ------------------------------------------------------------------------


def test_the_mail_worker_command_delivers_queued_mail_and_stops_on_sigterm(database_url, tmp_path, mailbox):
    make_staff(email="desk@supplier.example")
    env = command_env(database_url, tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(mailbox.port))
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail-worker", "--interval", "0.2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        request_password_reset("desk@supplier.example")
        delivered = mailbox.wait_for(1, timeout=30)
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    assert [m["Subject"] for m in delivered] == ["Reset your password"]
    assert worker.returncode == 0, err
    assert "Mail worker stopped." in out
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.sent_at)) is not None


# --- make run ---------------------------------------------------------------------------


def _make_run(port: str, **env) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "SHOP_BASE_URL"} | env
    result = subprocess.run(
        ["make", "-n", "run", f"PORT={port}"], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_make_run_on_another_port_puts_that_port_in_the_links_it_emails():
    commands = _make_run("5101")
    assert "SHOP_BASE_URL=http://127.0.0.1:5101 .venv/bin/flask --app wsgi mail-worker" in commands
    assert "SHOP_BASE_URL=http://127.0.0.1:5101 .venv/bin/flask --app wsgi run --host 127.0.0.1 --port 5101" in commands


def test_make_run_keeps_the_base_url_the_operator_set():
    commands = _make_run("5101", SHOP_BASE_URL="https://shop.example.com")
    assert "SHOP_BASE_URL=https://shop.example.com .venv/bin/flask --app wsgi run" in commands


# --- reindex-search ------------------------------------------------------------------------


def test_reindex_search_indexes_products_loaded_behind_the_shops_back(cli, signed_in):
    make_product(name="Aurora Glow", slug="aurora")
    make_product(name="Borealis Lift", slug="borealis")
    db.session.execute(db.text("DELETE FROM product_search"))  # as a raw SQL load would leave it
    db.session.commit()
    clinician = signed_in(make_clinician())
    assert "Aurora Glow" not in clinician.get("/catalogue?q=aurora").get_data(as_text=True)
    result = cli("reindex-search")
    assert result.exit_code == 0, result.output
    assert "2 products indexed" in result.output
    assert "Aurora Glow" in clinician.get("/catalogue?q=aurora").get_data(as_text=True)
