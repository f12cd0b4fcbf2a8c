"""A clinician asks for a quote: what the request keeps, what it refuses, and the two emails it
sends (the quotes desk's, with everything needed to price it, and the clinician's receipt)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shop import clock
from shop.accounts.models import Profession
from shop.errors import NotEligible
from shop.extensions import db
from shop.quoting import builder as quote_builder
from shop.quoting import quotes
from shop.quoting.models import Quote, QuoteStatus
from shop.quoting.quotes import RequestedItem
from tests.factories import ask, make_clinician, make_product, make_staff, make_variant
from tests.helpers import delivered, quotes_desk_address, reload, row_count
from tests.smtp import html_of, text_of


@pytest.fixture
def clinician():
    return make_clinician(full_name="Dr Ana Ruiz")


def test_a_request_keeps_each_product_by_its_catalogue_sku_and_name_whatever_case_was_typed(clinician):
    make_variant("VIT-1", name="Vital Booster")
    make_variant("HYD-2", name="Hydro Booster")

    quote = ask(clinician, ("vit-1", 12), ("  Hyd-2 ", 3))

    assert [(r.sku, r.quantity) for r in quote.request_lines] == [("VIT-1", 12), ("HYD-2", 3)]
    assert quote.request_lines[0].description.startswith("Vital Booster")
    assert all(r.variant_id is not None for r in quote.request_lines)


def test_items_not_in_the_catalogue_are_kept_as_the_clinician_described_them(clinician):
    quote = ask(clinician, others=(("Hyaluronidase 1500 IU, 10 vials", 2),))

    [line] = quote.request_lines
    assert (line.sku, line.variant_id, line.description, line.quantity) == (
        "",
        None,
        "Hyaluronidase 1500 IU, 10 vials",
        2,
    )


def test_a_request_is_numbered_q_and_starts_as_requested_with_its_message_date_and_an_event(clinician):
    make_variant("VIT-1")
    needed = clock.today() + timedelta(days=10)

    quote = reload(ask(clinician, ("VIT-1", 5), target_date=needed, message="  For the May clinic days.  "))

    assert quote.number == f"Q-{quotes.NUMBER_OFFSET + quote.id}"
    assert quote.status == QuoteStatus.REQUESTED
    assert (quote.target_date, quote.request_message) == (needed, "For the May clinic days.")
    assert (quote.practice_id, quote.contact_id, quote.started_by_id) == (
        clinician.practice_id,
        clinician.id,
        clinician.id,
    )
    assert [(e.action, e.actor_id, e.to_status) for e in quote.events] == [("requested", clinician.id, "requested")]
    assert quote.versions == []


def test_every_request_gets_its_own_number(clinician):
    make_variant("VIT-1")

    numbers = {ask(clinician, ("VIT-1", 1)).number for _ in range(3)}

    assert len(numbers) == 3 and all(n.startswith("Q-") and n[2:].isdigit() for n in numbers)


def test_today_is_a_possible_target_date(clinician):
    make_variant("VIT-1")

    assert ask(clinician, ("VIT-1", 1), target_date=clock.today()).target_date == clock.today()


@pytest.mark.parametrize(
    ("items", "target_days", "message"),
    [
        ([], None, "Add at least one product or describe what you need."),
        ([RequestedItem(quantity=1, sku="   "), RequestedItem(quantity=1, description=" ")], None, "Add at least"),
        ([RequestedItem(quantity=1, sku="NOPE-404")], None, "There is no product with the SKU 'NOPE-404'"),
        ([RequestedItem(quantity=0, sku="VIT-1")], None, "Quantities are between 1 and 999."),
        ([RequestedItem(quantity=1000, sku="VIT-1")], None, "Quantities are between 1 and 999."),
        ([RequestedItem(quantity=-2, description="Cannulas")], None, "Quantities are between 1 and 999."),
        ([RequestedItem(quantity=1, sku="VIT-1")], -1, "The target date is in the past."),
        ([RequestedItem(quantity=1, sku="VIT-1")] * 101, None, "at most 100 lines"),
    ],
)
def test_a_request_that_cannot_be_priced_is_refused_and_nothing_is_stored_or_sent(
    clinician, mailbox, items, target_days, message
):
    make_variant("VIT-1")
    target = clock.today() + timedelta(days=target_days) if target_days is not None else None

    with pytest.raises(NotEligible, match=message):
        quotes.request_quote(clinician, items, target_date=target)

    db.session.rollback()
    assert row_count(Quote) == 0
    assert delivered(mailbox, quotes_desk_address()) == []


def described_in(length: int) -> str:
    """A description of something not in the catalogue, exactly `length` characters long."""
    words = "Hyaluronidase 1500 IU powder, 10 vials with diluent and filter needles, cold chain. " * 4
    return words[: length - 1] + "."


def test_an_item_not_in_the_catalogue_is_described_in_at_most_160_characters_and_reaches_the_desk_whole(
    clinician, mailbox
):
    with pytest.raises(NotEligible, match="Describe each item in at most 160 characters.") as refusal:
        ask(clinician, others=((described_in(161), 2),))

    assert refusal.value.field == "items"
    db.session.rollback()
    assert row_count(Quote) == 0
    assert delivered(mailbox, quotes_desk_address()) == []

    longest = described_in(160)
    quote = ask(clinician, others=((longest, 2),))
    draft = quote_builder.open_draft(make_staff(), reload(quote))
    assert [(line.product_name, line.quantity) for line in draft.lines] == [(longest, 2)]


def test_a_clinician_whose_licence_has_expired_cannot_ask_for_a_quote():
    make_variant("VIT-1")
    lapsed = make_clinician(licence_expiry=clock.today() - timedelta(days=1))

    with pytest.raises(NotEligible, match="not verified"):
        ask(lapsed, ("VIT-1", 1))
    db.session.rollback()
    assert row_count(Quote) == 0


def test_a_nurse_cannot_ask_for_a_prescription_only_product(clinician):
    make_product(sku="KYB-1", name="Kybella", prescription_only=True)
    nurse = make_clinician(profession=Profession.REGISTERED_NURSE)

    with pytest.raises(NotEligible, match="prescription-only"):
        ask(nurse, ("KYB-1", 1))
    db.session.rollback()
    assert row_count(Quote) == 0
    assert ask(clinician, ("KYB-1", 1)).request_lines[0].sku == "KYB-1"  # a physician may


def test_a_product_not_cleared_in_the_shops_market_cannot_be_asked_for(clinician):
    make_product(sku="US-ONLY", market="US")

    with pytest.raises(NotEligible, match="not cleared for sale"):
        ask(clinician, ("US-ONLY", 1))


def test_the_quotes_desk_is_emailed_every_requested_line_the_practice_clinician_licence_and_a_link(clinician, mailbox):
    make_variant("VIT-1", name="Vital Booster")
    make_variant("HYD-2", name="Hydro Booster")
    quote = ask(
        clinician,
        ("VIT-1", 12),
        ("HYD-2", 3),
        others=(("Hyaluronidase 1500 IU", 2),),
        target_date=clock.today() + timedelta(days=14),
        message="Monthly volume, delivery to Cork.",
    )

    [message] = delivered(mailbox, quotes_desk_address())

    assert quote.number in message["Subject"]
    assert message["Reply-To"] == clinician.email
    licence = clinician.application.licence_number
    link = f"http://shop.test/staff/quotes/{quote.number}"
    for body in (text_of(message), html_of(message)):
        for expected in (
            quote.number,
            clinician.practice.name,
            clinician.full_name,
            clinician.email,
            licence,
            "Vital Booster",
            "VIT-1",
            "Hydro Booster",
            "HYD-2",
            "Hyaluronidase 1500 IU",
            "Monthly volume, delivery to Cork.",
            (clock.today() + timedelta(days=14)).isoformat(),
            link,
        ):
            assert expected in body, (expected, body[:2000])
    text = text_of(message)
    assert "12 x Vital Booster" in text and "3 x Hydro Booster" in text and "2 x Hyaluronidase 1500 IU" in text
    assert "[not in the catalogue]" in text


def test_the_clinician_gets_an_acknowledgement_with_the_quote_number_and_a_link(clinician, mailbox):
    make_variant("VIT-1", name="Vital Booster")
    quote = ask(clinician, ("VIT-1", 12))

    [message] = delivered(mailbox, clinician.email)

    assert quote.number in message["Subject"] and "received" in message["Subject"].lower()
    assert message["Reply-To"] == quotes_desk_address()
    for body in (text_of(message), html_of(message)):
        assert quote.number in body
        assert f"http://shop.test/quotes/{quote.number}" in body
        assert "Vital Booster" in body
    assert "/staff/" not in text_of(message) + html_of(message)


def test_the_desks_copy_goes_to_the_configured_quotes_mailbox(clinician, mailbox, ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "QUOTES_DESK_EMAIL", "pricing@meridian.example")
    make_variant("VIT-1")

    quote = ask(clinician, ("VIT-1", 1))

    [message] = delivered(mailbox, "pricing@meridian.example")
    assert quote.number in message["Subject"]
    assert [m for m in mailbox.messages if "quotes@" in m["To"]] == []
