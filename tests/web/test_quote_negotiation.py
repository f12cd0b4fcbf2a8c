"""Negotiating a quote: messages from either side reach the other by email, the clinician asks
for changes or declines, the desk answers with a revised version while every earlier version
stays readable (page and PDF), and the history says who did what and when."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from shop import clock
from shop.extensions import db
from shop.quoting.models import Quote, QuoteComment, QuoteStatus, QuoteVersion
from tests.factories import ask, issued_quote, make_clinician, make_staff, make_variant
from tests.helpers import (
    builder_form,
    delivered,
    flashes,
    pdf_attachment,
    pdf_text,
    quotes_desk_address,
    redirect_path,
    reload,
    row_count,
    text,
    version_snapshot,
)
from tests.smtp import html_of, text_of


@pytest.fixture
def clinician():
    return make_clinician(full_name="Dr Ana Ruiz")


@pytest.fixture
def staff():
    return make_staff(full_name="Jordan Lee")


@pytest.fixture
def doctor(signed_in, clinician):
    return signed_in(clinician)


@pytest.fixture
def desk(signed_in, staff):
    return signed_in(staff)


@pytest.fixture
def quote(clinician, staff, settled):
    make_variant("VIT-1", name="Vital Booster", price_cents=10_000, breaks=((10, 9_000),))
    made = issued_quote(clinician, staff, ("VIT-1", 12), shipping_cents=0)
    settled()
    return made


def section(response, heading_id: str) -> str:
    """The visible text of the page section introduced by the heading with this id."""
    html = response.get_data(as_text=True)
    start = html.index(f'id="{heading_id}"')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start : html.index("</section>", start)])).strip()


def only_quote_number() -> str:
    return db.session.scalar(db.select(Quote.number))


def draft_of(number: str) -> QuoteVersion:
    db.session.expire_all()
    return db.session.scalar(db.select(Quote).where(Quote.number == number)).draft


def follow(browser, response):
    assert response.status_code == 303
    return browser.get(redirect_path(response))


# --- messages ------------------------------------------------------------------------------------


def test_a_clinicians_message_reaches_the_quotes_desk_and_shows_on_both_pages(doctor, desk, quote, clinician, mailbox):
    response = doctor.post(f"/quotes/{quote.number}/comment", {"body": "Could you hold these prices until June?"})

    page = follow(doctor, response)
    assert ("success", "Your message is with the quotes desk.") in flashes(page)
    assert "Could you hold these prices until June?" in section(page, "talk-title")
    assert (
        "Could you hold these prices until June? "
        in section(desk.get(f"/staff/quotes/{quote.number}"), "talk-title") + " "
    )
    [message] = delivered(mailbox, quotes_desk_address(), quote.number)
    assert "Dr Ana Ruiz" in message["Subject"]
    assert message["Reply-To"] == clinician.email
    for body in (text_of(message), html_of(message)):
        assert "Could you hold these prices until June?" in body
        assert f"http://shop.test/staff/quotes/{quote.number}" in body
    assert delivered(mailbox, clinician.email) == []


def test_the_desks_message_reaches_the_clinician_signed_by_the_quotes_desk(doctor, desk, quote, clinician, mailbox):
    response = desk.post(f"/staff/quotes/{quote.number}/comment", {"body": "Yes, until the end of June."})

    assert ("success", "Message sent to the clinician.") in flashes(follow(desk, response))
    [message] = delivered(mailbox, clinician.email, quote.number)
    assert "quotes desk" in message["Subject"].lower()
    body = text_of(message)
    assert "Yes, until the end of June." in body
    assert f"http://shop.test/quotes/{quote.number}" in body and "/staff/" not in body
    assert delivered(mailbox, quotes_desk_address()) == []
    talk = section(doctor.get(f"/quotes/{quote.number}"), "talk-title")
    assert "Quotes desk" in talk and "Jordan Lee" not in talk and "Yes, until the end of June." in talk
    assert "Jordan Lee" in section(desk.get(f"/staff/quotes/{quote.number}"), "talk-title")


@pytest.mark.parametrize("body", ["", "   ", "\x00\x07", "X" * 10_000])
def test_an_empty_or_endless_message_is_refused_and_nobody_is_emailed(doctor, desk, quote, clinician, mailbox, body):
    for browser, path in ((doctor, f"/quotes/{quote.number}/comment"), (desk, f"/staff/quotes/{quote.number}/comment")):
        page = follow(browser, browser.post(path, {"body": body}))
        assert any(kind == "error" for kind, _ in flashes(page))
    assert row_count(QuoteComment) == 0
    assert delivered(mailbox, quotes_desk_address()) == [] and delivered(mailbox, clinician.email) == []


def test_control_characters_in_a_message_are_dropped(doctor, quote):
    doctor.post(f"/quotes/{quote.number}/comment", {"body": "Ring\x00 first\x1b."})

    assert db.session.scalar(db.select(QuoteComment.body)) == "Ring first."


# --- asking for changes -------------------------------------------------------------------------


def test_asking_for_changes_tells_the_desk_and_puts_the_quote_back_in_its_queue(doctor, desk, quote, mailbox):
    response = doctor.post(f"/quotes/{quote.number}/changes", {"body": "Twenty packs at 85.00, please."})

    page = follow(doctor, response)
    assert any("revised version" in message for kind, message in flashes(page) if kind == "success")
    quote = reload(quote)
    assert quote.status == QuoteStatus.CHANGES_REQUESTED
    assert quote.comments[-1].body == "Twenty packs at 85.00, please."
    event = quote.events[-1]
    assert (event.action, event.from_status, event.to_status, event.note) == (
        "changes_requested",
        "sent",
        "changes_requested",
        "Twenty packs at 85.00, please.",
    )
    [message] = delivered(mailbox, quotes_desk_address(), quote.number)
    assert "changes requested" in message["Subject"].lower()
    assert "Twenty packs at 85.00, please." in text_of(message)
    assert quote.number in desk.get("/staff/quotes").get_data(as_text=True)
    assert "Changes requested" in text(doctor.get("/quotes"))


def test_asking_for_changes_without_saying_what_is_refused(doctor, quote, mailbox):
    page = follow(doctor, doctor.post(f"/quotes/{quote.number}/changes", {"body": "  "}))

    assert any(kind == "error" for kind, _ in flashes(page))
    assert reload(quote).status == QuoteStatus.SENT
    assert delivered(mailbox, quotes_desk_address()) == []


def test_changes_cannot_be_asked_before_the_quote_is_sent_or_after_it_expired(
    doctor, clinician, quote, mailbox, settled
):
    waiting = ask(clinician, ("VIT-1", 1))
    reload(quote).latest_sent.expires_at = clock.now() - timedelta(minutes=1)
    db.session.commit()
    settled()

    for number, message in ((waiting.number, "cannot become “changes requested”"), (quote.number, "expired")):
        page = follow(doctor, doctor.post(f"/quotes/{number}/changes", {"body": "Cheaper?"}))
        assert any(kind == "error" and message in text_ for kind, text_ in flashes(page)), flashes(page)

    assert reload(waiting).status == QuoteStatus.REQUESTED and reload(quote).status == QuoteStatus.SENT
    assert delivered(mailbox, quotes_desk_address()) == []


# --- the revised version -------------------------------------------------------------------------


def test_the_desk_answers_changes_with_a_revised_version_and_the_first_stays_readable(
    doctor, desk, quote, clinician, mailbox
):
    doctor.post(f"/quotes/{quote.number}/changes", {"body": "Twenty packs at 85.00, please."})
    v1 = reload(quote).latest_sent
    before = version_snapshot(v1)

    assert desk.post(f"/staff/quotes/{quote.number}/draft").status_code == 303
    v2 = reload(quote).draft
    response = desk.post(
        f"/staff/quotes/{quote.number}/save",
        builder_form(v2, {0: {"quantity": "20", "unit_price": "85.00"}}, then="send"),
    )
    assert response.status_code == 303

    quote = reload(quote)
    assert quote.status == QuoteStatus.SENT and quote.latest_sent.number == 2
    assert version_snapshot(reload(QuoteVersion, v1.id)) == before
    [revised] = delivered(mailbox, clinician.email, "v2")
    assert quote.number in revised["Subject"]
    assert "version 2 replaces the earlier one" in text_of(revised)
    name, pdf = pdf_attachment(revised)
    assert name == f"{quote.number}-v2.pdf" and "(v2)" in pdf_text(pdf) and "$1,700.00" in pdf_text(pdf)

    current = doctor.get(f"/quotes/{quote.number}")
    earlier = doctor.get(f"/quotes/{quote.number}?version=1")
    assert f"Quote {quote.number} (v2)" in text(current) and "$1,700.00" in text(current)
    assert f"Quote {quote.number} (v1)" in text(earlier) and "$1,080.00" in text(earlier)
    assert "an earlier version" in text(earlier)
    assert "$1,700.00" not in text(earlier)
    html = current.get_data(as_text=True)
    assert f'href="/quotes/{quote.number}?version=1"' in html and f'href="/quotes/{quote.number}?version=2"' in html
    assert "$1,080.00" in pdf_text(doctor.get(f"/quotes/{quote.number}/pdf?version=1").data)
    assert "$1,700.00" in pdf_text(doctor.get(f"/quotes/{quote.number}/pdf").data)
    assert doctor.get(f"/quotes/{quote.number}?version=3").status_code == 404


def test_a_revision_in_preparation_is_not_shown_to_the_clinician(doctor, desk, quote):
    desk.post(f"/staff/quotes/{quote.number}/draft")
    draft = reload(quote).draft
    desk.post(f"/staff/quotes/{quote.number}/save", builder_form(draft, {0: {"unit_price": "1.00"}}))

    page = doctor.get(f"/quotes/{quote.number}")

    assert f"Quote {quote.number} (v1)" in text(page) and "$1.00" not in text(page)
    assert doctor.get(f"/quotes/{quote.number}?version=2").status_code == 404
    assert doctor.get(f"/quotes/{quote.number}/pdf?version=2").status_code == 404


# --- declining -------------------------------------------------------------------------------------


def test_declining_with_a_reason_closes_the_quote_and_tells_the_desk(doctor, desk, quote, mailbox):
    page = follow(doctor, doctor.post(f"/quotes/{quote.number}/decline", {"reason": "Found a local supplier."}))

    assert any(kind == "success" for kind, _ in flashes(page))
    quote = reload(quote)
    assert (quote.status, quote.decline_reason) == (QuoteStatus.DECLINED, "Found a local supplier.")
    [message] = delivered(mailbox, quotes_desk_address(), quote.number)
    assert "declined" in message["Subject"] and "Found a local supplier." in text_of(message)
    assert "Declined" in text(doctor.get("/quotes"))
    assert quote.number in desk.get("/staff/quotes?queue=closed").get_data(as_text=True)

    again = follow(doctor, doctor.post(f"/quotes/{quote.number}/decline", {"reason": "Still no."}))
    assert any(kind == "error" for kind, _ in flashes(again))
    assert reload(quote).decline_reason == "Found a local supplier."


def test_declining_without_a_reason_is_refused(doctor, quote, mailbox):
    page = follow(doctor, doctor.post(f"/quotes/{quote.number}/decline", {"reason": " "}))

    assert any(kind == "error" for kind, _ in flashes(page))
    assert reload(quote).status == QuoteStatus.SENT
    assert delivered(mailbox, quotes_desk_address()) == []


# --- history --------------------------------------------------------------------------------------


def test_the_history_shows_who_did_what_and_when_on_both_sides(doctor, desk, quote):
    doctor.post(f"/quotes/{quote.number}/changes", {"body": "Twenty packs, please."})
    desk.post(f"/staff/quotes/{quote.number}/draft")
    desk.post(f"/staff/quotes/{quote.number}/save", builder_form(reload(quote).draft, then="send"))
    events = reload(quote).events

    clinician_view = doctor.get(f"/quotes/{quote.number}")
    desk_view = desk.get(f"/staff/quotes/{quote.number}")

    expected = [
        ("Quote sent", "Jordan Lee"),
        ("Quotes desk started a revision", "Jordan Lee"),
        ("Changes requested", "Dr Ana Ruiz"),
        ("Quote sent", "Jordan Lee"),
        ("Quotes desk started preparing it", "Jordan Lee"),
        ("Quote requested", "Dr Ana Ruiz"),
    ]
    for response, staff_name in ((desk_view, "Jordan Lee"), (clinician_view, "Quotes desk")):
        history = section(response, "quote-history-title")
        position = 0
        for label, actor in expected:
            entry = f"{label} · {staff_name if actor == 'Jordan Lee' else actor}"
            found = history.find(entry, position)
            assert found >= 0, (entry, history)
            position = found + len(entry)
        assert "Twenty packs, please." in history
        for event in events:
            assert f'datetime="{event.created_at.isoformat()}"' in response.get_data(as_text=True)
    assert "Jordan Lee" not in section(clinician_view, "quote-history-title")


# --- the mail of a whole negotiation ----------------------------------------------------------


def test_every_email_of_a_negotiation_names_the_quote_in_its_subject_and_links_to_it(
    signed_in, clinician, staff, mailbox
):
    make_variant("VIT-1", name="Vital Booster", price_cents=10_000)
    doctor, desk = signed_in(clinician), signed_in(staff)
    doctor.post("/quotes/new", {"products-0-sku": "VIT-1", "products-0-quantity": "4"})
    number = only_quote_number()
    desk.post(f"/staff/quotes/{number}/draft")
    desk.post(f"/staff/quotes/{number}/save", builder_form(draft_of(number), then="send"))
    doctor.post(f"/quotes/{number}/comment", {"body": "<script>alert(1)</script> Any better price?"})
    desk.post(f"/staff/quotes/{number}/comment", {"body": "Let me check."})
    doctor.post(f"/quotes/{number}/changes", {"body": "Five packs at 90.00?"})
    desk.post(f"/staff/quotes/{number}/draft")
    desk.post(f"/staff/quotes/{number}/save", builder_form(draft_of(number), {0: {"unit_price": "90.00"}}, then="send"))
    doctor.post(f"/quotes/{number}/decline", {"reason": "Budget moved to next quarter."})

    to_desk = delivered(mailbox, quotes_desk_address())
    to_clinician = delivered(mailbox, clinician.email)

    assert len(to_desk) == 4  # the request, a message, the changes asked for, the decline
    assert len(to_clinician) == 4  # the receipt, v1, the desk's message, v2
    for message, link in [(m, f"http://shop.test/staff/quotes/{number}") for m in to_desk] + [
        (m, f"http://shop.test/quotes/{number}") for m in to_clinician
    ]:
        assert number in message["Subject"], message["Subject"]
        assert link in text_of(message) and link in html_of(message), message["Subject"]
    assert all("<script>alert(1)</script>" not in html_of(m) for m in to_desk)
    assert sorted(pdf_attachment(m)[0] for m in to_clinician if "Your quote" in m["Subject"]) == [
        f"{number}-v1.pdf",
        f"{number}-v2.pdf",
    ]
