"""The quotes desk's builder, through its services: the draft made from a request, lines added
by SKU or described, quantities, prices and discounts, shipping, validity, sending, and the
versions that stay as they were sent while a revision is prepared; one draft however many of
the desk open it at once, and none edited once the quote is accepted or declined."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shop import clock
from shop.accounts.models import Profession, User
from shop.core.formatting import long_date
from shop.core.outbox import OutboxMessage
from shop.errors import InvalidTransition, NotEligible
from shop.extensions import db
from shop.quoting import acceptance, quotes
from shop.quoting import builder as quote_builder
from shop.quoting.builder import DraftEdit, LineEdit
from shop.quoting.models import Quote, QuoteLine, QuoteRequestLine, QuoteStatus, QuoteVersion
from tests.factories import (
    accept_quote,
    ask,
    edit_draft,
    issue,
    issued_quote,
    make_applicant,
    make_clinician,
    make_product,
    make_staff,
    make_variant,
)
from tests.helpers import line_for, reload, row_count, version_snapshot

BREAKS = ((5, 9_500), (10, 9_000))


@pytest.fixture
def clinician():
    return make_clinician(full_name="Dr Ana Ruiz", on_account=True)


@pytest.fixture
def staff():
    return make_staff(full_name="Jordan Lee")


@pytest.fixture
def booster():
    return make_variant("VIT-1", name="Vital Booster", price_cents=10_000, breaks=BREAKS)


def next_date(month: int, day: int) -> date:
    """The next `month`/`day` after today (within a year, so a quote may be valid until it)."""
    today = clock.today()
    candidate = date(today.year, month, day)
    return candidate if candidate > today else date(today.year + 1, month, day)


def edit(version: QuoteVersion, **changes) -> DraftEdit:
    values = dict(lines=[], shipping_cents=version.shipping_cents, valid_until=version.valid_until, terms="", note="")
    values.update(changes)
    return DraftEdit(**values)


# --- the first draft -------------------------------------------------------------------------


def test_the_draft_prices_each_requested_product_at_its_volume_price_and_leaves_custom_items_at_zero(
    clinician, staff, booster
):
    make_variant("HYD-2", name="Hydro Booster", price_cents=8_000, breaks=BREAKS)
    quote = ask(clinician, ("VIT-1", 12), ("HYD-2", 3), others=(("Cannulas 25G", 4),))

    draft = quote_builder.open_draft(staff, reload(quote))

    rows = [
        (ln.sku, ln.product_name, ln.quantity, ln.list_price_cents, ln.unit_price_cents, ln.line_total_cents)
        for ln in draft.lines
    ]
    assert rows == [
        ("VIT-1", "Vital Booster", 12, 9_000, 9_000, 108_000),
        ("HYD-2", "Hydro Booster", 3, 8_000, 8_000, 24_000),
        ("", "Cannulas 25G", 4, 0, 0, 0),
    ]
    assert (draft.number, draft.sent_at, draft.subtotal_cents) == (1, None, 132_000)
    assert reload(quote).status == QuoteStatus.DRAFT
    assert [e.action for e in reload(quote).events] == ["requested", "drafted"]
    assert reload(quote).events[-1].actor_id == staff.id


def test_the_draft_is_valid_for_thirty_days_from_today_with_the_default_terms_and_tax(clinician, staff, booster, ctx):
    draft = quote_builder.open_draft(staff, ask(clinician, ("VIT-1", 1)))

    assert draft.valid_until == clock.today() + timedelta(days=30)
    assert draft.terms == quote_builder.default_terms()
    assert "Payment by card, or on account for approved practices." in draft.terms
    assert (draft.tax_rate_bps, draft.currency) == (2_300, "USD")


def test_without_card_payment_the_standard_terms_promise_none(clinician, staff, booster, ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "STRIPE_SECRET_KEY", None)
    draft = quote_builder.open_draft(staff, ask(clinician, ("VIT-1", 1)))
    assert "Payment on account for approved practices." in draft.terms
    assert "card" not in draft.terms


def test_the_shops_own_terms_are_what_a_quote_starts_with_when_configured(clinician, staff, booster, ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "QUOTE_DEFAULT_TERMS", "Net 30. Ex works Cork.")
    assert quote_builder.open_draft(staff, ask(clinician, ("VIT-1", 1))).terms == "Net 30. Ex works Cork."


def test_the_validity_of_a_new_draft_follows_quote_validity_days(clinician, staff, booster, ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "QUOTE_VALIDITY_DAYS", 7)

    draft = quote_builder.open_draft(staff, ask(clinician, ("VIT-1", 1)))

    assert draft.valid_until == clock.today() + timedelta(days=7)


def test_the_first_draft_charges_the_shops_shipping_below_the_free_shipping_threshold(clinician, staff, booster):
    small = quote_builder.open_draft(staff, ask(clinician, ("VIT-1", 1)))
    large = quote_builder.open_draft(staff, ask(clinician, ("VIT-1", 10)))

    assert small.shipping_cents == 1_500
    assert large.shipping_cents == 0


def test_opening_the_draft_again_returns_the_same_draft(clinician, staff, booster):
    quote = ask(clinician, ("VIT-1", 1))

    first = quote_builder.open_draft(staff, reload(quote))
    again = quote_builder.open_draft(staff, reload(quote))

    assert first.id == again.id
    assert row_count(QuoteVersion) == 1


def test_a_request_line_described_at_length_before_the_limit_opens_with_its_name_cut_to_160_characters(
    clinician, staff
):
    quote = ask(clinician, others=(("Cannulas 25G", 4),))
    # Requests used to keep up to 300 characters per item; such a line is still in the database.
    described = ("Hyaluronidase 1500 IU powder, 10 vials with diluent and filter needles, cold chain. " * 4)[:300]
    db.session.add(QuoteRequestLine(quote_id=quote.id, sku="", description=described, quantity=2))
    db.session.commit()

    draft = quote_builder.open_draft(staff, reload(quote))

    assert [(line.product_name, line.quantity) for line in draft.lines] == [
        ("Cannulas 25G", 4),
        (described[:160], 2),
    ]
    assert reload(quote).status == QuoteStatus.DRAFT


def open_at_once(ctx, staff_ids: list[int], number: str) -> list:
    """Each of `staff_ids` opens the draft of quote `number` at the same moment, in its own
    thread, app context and database connection; returns each draft's id, or what was raised."""
    start = threading.Barrier(len(staff_ids))

    def run(staff_id: int):
        with ctx.app_context():
            try:
                staff, quote = db.session.get(User, staff_id), quotes.quote_by_number(number)
                db.session.rollback()  # no read transaction held open while waiting
                start.wait(timeout=30)
                return quote_builder.open_draft(staff, quote).id
            except Exception as error:  # noqa: BLE001 - the test asserts what was raised
                db.session.rollback()
                return error
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(staff_ids)) as pool:
        return list(pool.map(run, staff_ids))


def test_two_staff_opening_a_request_at_the_same_moment_make_one_draft_and_the_other_is_told(
    clinician, staff, booster, ctx
):
    colleague = make_staff(full_name="Quinn Byrne")
    for _ in range(3):
        quote = ask(clinician, ("VIT-1", 2))

        results = open_at_once(ctx, [staff.id, colleague.id], quote.number)

        [draft] = reload(quote).versions
        assert draft.number == 1 and draft.sent_at is None
        assert [line.sku for line in draft.lines] == ["VIT-1"]
        for result in results:
            assert result == draft.id or (
                isinstance(result, InvalidTransition) and "opened a moment ago" in result.message
            ), results
        assert [e.action for e in reload(quote).events] == ["requested", "drafted"]


def test_only_the_quotes_desk_prepares_quotes(clinician, booster):
    quote = ask(clinician, ("VIT-1", 1))

    with pytest.raises(NotEligible):
        quote_builder.open_draft(clinician, reload(quote))
    db.session.rollback()
    assert reload(quote).status == QuoteStatus.REQUESTED and row_count(QuoteVersion) == 0


# --- a quote the desk starts for a practice that called --------------------------------------


def test_the_desk_starts_a_quote_for_a_verified_clinician_with_an_empty_draft(clinician, staff):
    quote = reload(quote_builder.start_quote(staff, clinician))

    assert quote.number.startswith("Q-")
    assert (quote.status, quote.contact_id, quote.practice_id, quote.started_by_id) == (
        QuoteStatus.DRAFT,
        clinician.id,
        clinician.practice_id,
        staff.id,
    )
    assert quote.request_lines == [] and [v.lines for v in quote.versions] == [[]]
    assert [(e.action, e.actor_id) for e in quote.events] == [("started", staff.id)]


def test_a_quote_cannot_be_started_for_someone_who_is_not_a_verified_clinician(staff):
    for contact in (make_applicant(), make_staff(), make_clinician(licence_expiry=clock.today() - timedelta(days=1))):
        with pytest.raises(NotEligible, match="verified clinicians"):
            quote_builder.start_quote(staff, contact)
        db.session.rollback()
    assert row_count(Quote) == 0


# --- lines ------------------------------------------------------------------------------------


def test_the_desk_adds_a_product_by_sku_in_any_case_at_its_volume_price_or_at_a_price_they_type(
    clinician, staff, booster
):
    quote = quote_builder.start_quote(staff, clinician)

    listed = quote_builder.add_line(staff, reload(quote), sku=" vit-1 ", quantity=10)
    special = quote_builder.add_line(staff, reload(quote), sku="VIT-1", quantity=2, unit_price_cents=7_777)

    assert (listed.sku, listed.product_name, listed.list_price_cents, listed.unit_price_cents) == (
        "VIT-1",
        "Vital Booster",
        9_000,
        9_000,
    )
    assert (special.list_price_cents, special.unit_price_cents, special.line_total_cents) == (10_000, 7_777, 15_554)
    draft = reload(quote).draft
    assert draft.subtotal_cents == 90_000 + 15_554
    assert draft.total_cents == draft.subtotal_cents + draft.shipping_cents + draft.tax_cents


def test_the_desk_adds_a_custom_item_with_its_description_and_price(clinician, staff):
    quote = quote_builder.start_quote(staff, clinician)

    line = quote_builder.add_line(
        staff, reload(quote), description="  Hyaluronidase 1500 IU ", quantity=3, unit_price_cents=4_550
    )

    assert (line.sku, line.variant_id, line.product_name, line.unit_price_cents, line.line_total_cents) == (
        "",
        None,
        "Hyaluronidase 1500 IU",
        4_550,
        13_650,
    )


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"sku": "NOPE-1"}, "sku", "There is no product with the SKU 'NOPE-1'"),
        ({"sku": "VIT-1", "quantity": 0}, "quantity", "Quantities are between 1 and 999."),
        ({"sku": "VIT-1", "quantity": 1000}, "quantity", "Quantities are between 1 and 999."),
        ({"description": "Cannulas"}, "unit_price", "Give the price of the custom item."),
        ({"description": "Cannulas", "unit_price_cents": -1}, "unit_price", "Give the price"),
        ({"description": "   "}, "sku", "Give a SKU, or describe the item."),
    ],
)
def test_a_line_the_desk_cannot_add_is_refused_next_to_its_field(clinician, staff, booster, values, field, message):
    quote = quote_builder.start_quote(staff, clinician)

    with pytest.raises(NotEligible, match=message) as refusal:
        quote_builder.add_line(staff, reload(quote), **values)

    assert refusal.value.field == field
    db.session.rollback()
    assert row_count(QuoteLine) == 0


def test_the_desk_cannot_quote_a_product_the_clinician_could_never_order(staff):
    make_product(sku="KYB-1", name="Kybella", prescription_only=True)
    nurse = make_clinician(profession=Profession.REGISTERED_NURSE)
    quote = quote_builder.start_quote(staff, nurse)

    with pytest.raises(NotEligible, match="prescription-only") as refusal:
        quote_builder.add_line(staff, reload(quote), sku="KYB-1", quantity=1)

    assert refusal.value.field == "sku"
    db.session.rollback()
    assert row_count(QuoteLine) == 0


def test_a_new_quantity_takes_the_volume_price_it_reaches_and_the_unit_price_follows(clinician, staff, booster):
    quote = ask(clinician, ("VIT-1", 3))

    draft = edit_draft(staff, quote, quantities={"VIT-1": 12})

    line = line_for(draft, "VIT-1")
    assert (line.quantity, line.list_price_cents, line.unit_price_cents, line.line_total_cents) == (
        12,
        9_000,
        9_000,
        108_000,
    )


def test_a_price_the_desk_typed_stands_when_the_quantity_changes(clinician, staff, booster):
    quote = ask(clinician, ("VIT-1", 3))
    edit_draft(staff, quote, prices={"VIT-1": (8_000, 0)})

    draft = edit_draft(staff, quote, quantities={"VIT-1": 12})

    line = line_for(draft, "VIT-1")
    assert (line.list_price_cents, line.unit_price_cents, line.line_total_cents) == (9_000, 8_000, 96_000)


@pytest.mark.parametrize(
    ("list_price", "discount_bps", "unit_price"),
    [
        (10_000, 1_500, 8_500),
        (10_000, 1_250, 8_750),
        (999, 5_000, 500),  # 4.995 rounds half up to 5.00
        (1_001, 5_000, 501),  # 5.005 rounds half up to 5.01
        (999, 3_333, 666),  # 6.6603 rounds to 6.66
        (12_345, 10_000, 0),
        (12_345, 1, 12_344),  # 99.99% of 123.45 is 123.437655 -> 123.44
    ],
)
def test_a_percentage_discount_applies_to_the_list_price_and_the_price_is_rounded_half_up(
    clinician, staff, list_price, discount_bps, unit_price
):
    make_variant("DIS-1", price_cents=list_price)
    quote = ask(clinician, ("DIS-1", 3))

    draft = edit_draft(staff, quote, prices={"DIS-1": (None, discount_bps)})

    line = line_for(draft, "DIS-1")
    assert (line.list_price_cents, line.discount_bps, line.unit_price_cents, line.line_total_cents) == (
        list_price,
        discount_bps,
        unit_price,
        unit_price * 3,
    )


def test_a_discount_wins_over_a_typed_unit_price(clinician, staff, booster):
    quote = ask(clinician, ("VIT-1", 1))

    draft = edit_draft(staff, quote, prices={"VIT-1": (1_234, 2_000)})

    assert line_for(draft, "VIT-1").unit_price_cents == 8_000


def test_a_custom_item_is_priced_by_the_desk_and_a_discount_applies_to_that_price(clinician, staff):
    quote = ask(clinician, others=(("Cannulas 25G", 4),))

    priced = line_for(edit_draft(staff, quote, prices={"Cannulas 25G": (2_500, 0)}), "Cannulas 25G")
    assert (priced.list_price_cents, priced.unit_price_cents, priced.line_total_cents) == (2_500, 2_500, 10_000)

    discounted = line_for(edit_draft(staff, quote, prices={"Cannulas 25G": (2_500, 1_000)}), "Cannulas 25G")
    assert (discounted.list_price_cents, discounted.unit_price_cents, discounted.line_total_cents) == (
        2_500,
        2_250,
        9_000,
    )


def test_a_custom_item_priced_and_discounted_at_once_is_discounted_from_the_typed_price(clinician, staff):
    quote = ask(clinician, others=(("Cannulas 25G", 2),))

    line = line_for(edit_draft(staff, quote, prices={"Cannulas 25G": (4_000, 2_500)}), "Cannulas 25G")

    assert (line.list_price_cents, line.unit_price_cents, line.line_total_cents) == (4_000, 3_000, 6_000)


def test_a_removed_line_leaves_the_draft_and_its_totals(clinician, staff, booster):
    make_variant("HYD-2", price_cents=8_000)
    quote = ask(clinician, ("VIT-1", 1), ("HYD-2", 1))

    draft = edit_draft(staff, quote, remove=("HYD-2",))

    assert [line.sku for line in draft.lines] == ["VIT-1"]
    assert draft.subtotal_cents == 10_000
    assert db.session.scalar(db.select(db.func.count()).select_from(QuoteLine).where(QuoteLine.sku == "HYD-2")) == 0


def test_the_totals_add_shipping_and_tax_on_goods_and_shipping_rounded_half_up(clinician, staff):
    make_variant("ODD-1", price_cents=1_001)
    quote = ask(clinician, ("ODD-1", 1))

    draft = edit_draft(staff, quote, shipping_cents=1_000)

    # 23% of 20.01 is 4.6023 -> 4.60
    assert (draft.subtotal_cents, draft.shipping_cents, draft.tax_cents, draft.total_cents) == (
        1_001,
        1_000,
        460,
        2_461,
    )


def test_shipping_validity_terms_and_note_are_saved_with_the_draft(clinician, staff, booster):
    quote = ask(clinician, ("VIT-1", 1))
    until = clock.today() + timedelta(days=45)

    draft = edit_draft(
        staff, quote, shipping_cents=0, valid_until=until, terms="  Net 30 days.  ", note=" Prices held for May. "
    )

    assert (draft.shipping_cents, draft.valid_until, draft.terms, draft.note) == (
        0,
        until,
        "Net 30 days.",
        "Prices held for May.",
    )
    assert draft.total_cents == 10_000 + 2_300


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"quantity": 0}, "Quantities are between 1 and 999."),
        ({"quantity": 1_000}, "Quantities are between 1 and 999."),
        ({"discount_bps": 10_001}, "A discount is between 0 and 100 percent."),
        ({"discount_bps": -1}, "A discount is between 0 and 100 percent."),
        ({"unit_price_cents": -1}, "Prices cannot be negative."),
    ],
)
def test_an_impossible_line_value_is_refused_and_the_draft_stays_as_it_was(clinician, staff, booster, change, message):
    quote = ask(clinician, ("VIT-1", 2))
    draft = quote_builder.open_draft(staff, reload(quote))
    before = version_snapshot(draft)
    line = draft.lines[0]
    values = dict(line_id=line.id, quantity=2, unit_price_cents=line.unit_price_cents, discount_bps=0)
    values.update(change)

    with pytest.raises(NotEligible, match=message):
        quote_builder.save_draft(staff, reload(quote), edit(draft, lines=[LineEdit(**values)]))

    db.session.rollback()
    assert version_snapshot(reload(QuoteVersion, draft.id)) == before


@pytest.mark.parametrize(("days", "message"), [(-1, "today or later"), (367, "a year at most")])
def test_a_validity_date_in_the_past_or_more_than_a_year_ahead_is_refused(clinician, staff, booster, days, message):
    quote = ask(clinician, ("VIT-1", 2))
    draft = quote_builder.open_draft(staff, reload(quote))
    before = version_snapshot(draft)

    with pytest.raises(NotEligible, match=message) as refusal:
        quote_builder.save_draft(staff, reload(quote), edit(draft, valid_until=clock.today() + timedelta(days=days)))

    assert refusal.value.field == "valid_until"
    db.session.rollback()
    assert version_snapshot(reload(QuoteVersion, draft.id)) == before


def test_a_quote_above_ten_million_is_refused_whichever_way_it_grows(clinician, staff, booster):
    quote = ask(clinician, ("VIT-1", 999))
    draft = quote_builder.open_draft(staff, reload(quote))
    before = version_snapshot(draft)
    line = draft.lines[0]

    with pytest.raises(NotEligible, match=r"at most \$10,000,000.00"):
        quote_builder.save_draft(
            staff,
            reload(quote),
            edit(draft, lines=[LineEdit(line_id=line.id, quantity=999, unit_price_cents=999_999_999, discount_bps=0)]),
        )
    db.session.rollback()
    with pytest.raises(NotEligible, match="at most"):
        quote_builder.add_line(
            staff, reload(quote), description="Machine", quantity=999, unit_price_cents=1_000_000_000
        )
    db.session.rollback()
    with pytest.raises(NotEligible, match="at most"):
        quote_builder.save_draft(staff, reload(quote), edit(draft, shipping_cents=1_000_000_000))
    db.session.rollback()

    assert version_snapshot(reload(QuoteVersion, draft.id)) == before
    assert row_count(QuoteLine) == 1


def test_one_of_several_lines_priced_beyond_what_a_quote_may_total_is_refused_and_nothing_is_saved(
    clinician, staff, booster
):
    make_variant("HYD-2", name="Hydro Booster", price_cents=8_000)
    quote = ask(clinician, ("VIT-1", 2), ("HYD-2", 1))
    draft = quote_builder.open_draft(staff, reload(quote))
    before = version_snapshot(draft)
    first, second = draft.lines

    with pytest.raises(NotEligible, match=r"at most \$10,000,000.00"):
        quote_builder.save_draft(
            staff,
            reload(quote),
            edit(
                draft,
                lines=[
                    # 999 at $100,000.00 each: $99,900,000.00 on one line.
                    LineEdit(line_id=first.id, quantity=999, unit_price_cents=10_000_000, discount_bps=0),
                    LineEdit(line_id=second.id, quantity=1, unit_price_cents=second.unit_price_cents, discount_bps=0),
                ],
            ),
        )

    db.session.rollback()
    assert version_snapshot(reload(QuoteVersion, draft.id)) == before


def test_a_line_named_twice_or_from_another_draft_is_refused_without_changing_anything(clinician, staff, booster):
    other = quote_builder.open_draft(staff, ask(clinician, ("VIT-1", 1)))
    quote = ask(clinician, ("VIT-1", 2))
    draft = quote_builder.open_draft(staff, reload(quote))
    before = version_snapshot(draft)
    mine = draft.lines[0]

    for lines in (
        [LineEdit(line_id=mine.id, quantity=2, unit_price_cents=None, discount_bps=0, remove=True)] * 2,
        [LineEdit(line_id=other.lines[0].id, quantity=5, unit_price_cents=None, discount_bps=0)],
    ):
        with pytest.raises(NotEligible, match="Reload the builder"):
            quote_builder.save_draft(staff, reload(quote), edit(draft, lines=lines))
        db.session.rollback()

    assert version_snapshot(reload(QuoteVersion, draft.id)) == before
    assert reload(QuoteVersion, other.id).lines[0].quantity == 1


# --- sending ----------------------------------------------------------------------------------


def test_sending_fixes_the_version_marks_the_quote_sent_and_queues_the_clinicians_email(clinician, staff, booster):
    quote = ask(clinician, ("VIT-1", 2))

    version = issue(staff, quote)

    quote = reload(quote)
    assert quote.status == QuoteStatus.SENT
    assert quote.latest_sent.id == version.id and quote.draft is None
    assert version.sent_by_id == staff.id and version.sent_at is not None
    sent = quote.events[-1]
    assert (sent.action, sent.actor_id, sent.from_status, sent.to_status) == ("sent", staff.id, "draft", "sent")
    assert f"valid until {long_date(version.valid_until)}" in sent.note
    [mail] = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == "quote.sent")).all()
    assert mail.to_address == clinician.email and quote.number in mail.subject


def test_a_sent_quote_ends_at_the_end_of_its_last_day_in_the_shops_time_zone(clinician, staff, booster):
    summer, winter = next_date(7, 15), next_date(1, 15)
    dublin = ZoneInfo("Europe/Dublin")

    for day, utc_end in (
        (summer, datetime(summer.year, 7, 15, 23, 0, tzinfo=UTC)),
        (winter, datetime(winter.year, 1, 16, 0, 0, tzinfo=UTC)),
    ):
        quote = ask(clinician, ("VIT-1", 1))
        version = issue(staff, quote, valid_until=day)

        assert version.expires_at == utc_end == datetime.combine(day + timedelta(days=1), datetime.min.time(), dublin)
        quote = reload(quote)
        assert not quote.is_expired(utc_end - timedelta(microseconds=1))
        assert quote.is_expired(utc_end)


def test_the_end_of_the_day_follows_the_configured_time_zone(clinician, staff, booster, monkeypatch, ctx):
    monkeypatch.setitem(ctx.config, "SHOP_TIMEZONE", "America/New_York")
    day = next_date(1, 15)
    quote = ask(clinician, ("VIT-1", 1))

    version = issue(staff, quote, valid_until=day)

    assert version.expires_at == datetime(day.year, 1, 16, 5, 0, tzinfo=UTC)


def test_a_draft_without_lines_cannot_be_sent(clinician, staff):
    quote = quote_builder.start_quote(staff, clinician)

    with pytest.raises(NotEligible, match="at least one line"):
        quote_builder.send_quote(staff, reload(quote))
    db.session.rollback()
    assert reload(quote).status == QuoteStatus.DRAFT and reload(quote).draft.sent_at is None


def test_a_quote_cannot_be_sent_twice_from_the_same_draft(clinician, staff, booster):
    quote = ask(clinician, ("VIT-1", 1))
    issue(staff, quote)

    with pytest.raises(InvalidTransition, match="no draft"):
        quote_builder.send_quote(staff, reload(quote))
    db.session.rollback()
    assert len(reload(quote).versions) == 1


# --- versions ---------------------------------------------------------------------------------


def test_a_sent_version_cannot_be_changed_by_the_builder(clinician, staff, booster):
    quote = issued_quote(clinician, staff, ("VIT-1", 2))
    version = quote.latest_sent
    before = version_snapshot(version)
    line = version.lines[0]

    with pytest.raises(InvalidTransition):
        quote_builder.save_draft(
            staff,
            reload(quote),
            edit(version, lines=[LineEdit(line_id=line.id, quantity=9, unit_price_cents=1, discount_bps=0)]),
        )
    db.session.rollback()
    with pytest.raises(InvalidTransition):
        quote_builder.add_line(staff, reload(quote), sku="VIT-1", quantity=1)
    db.session.rollback()

    assert version_snapshot(reload(QuoteVersion, version.id)) == before


def test_a_revision_starts_as_a_copy_and_leaves_the_sent_version_untouched(clinician, staff, booster):
    make_variant("HYD-2", price_cents=8_000)
    quote = issued_quote(
        clinician, staff, ("VIT-1", 12), ("HYD-2", 2), others=(("Cannulas", 3),), shipping_cents=900, note="v1 note"
    )
    v1 = quote.latest_sent
    before = version_snapshot(v1)

    v2 = quote_builder.open_draft(staff, reload(quote))
    assert v2.number == 2 and v2.sent_at is None
    assert version_snapshot(v2)[1] == before[1]  # the same lines, prices and totals
    assert (v2.shipping_cents, v2.note, v2.subtotal_cents, v2.total_cents) == (
        900,
        "v1 note",
        v1.subtotal_cents,
        v1.total_cents,
    )
    assert not {line.id for line in v2.lines} & {line.id for line in v1.lines}

    edit_draft(staff, quote, prices={"VIT-1": (None, 2_000)}, remove=("HYD-2",), shipping_cents=0, note="v2 note")
    quote_builder.add_line(staff, reload(quote), description="Needles 30G", quantity=10, unit_price_cents=50)
    quote_builder.send_quote(staff, reload(quote))

    quote = reload(quote)
    assert version_snapshot(reload(QuoteVersion, v1.id)) == before
    assert [v.number for v in quote.versions] == [1, 2]
    assert quote.latest_sent.number == 2
    assert [line.sku or line.product_name for line in quote.latest_sent.lines] == ["VIT-1", "Cannulas", "Needles 30G"]
    assert line_for(quote.latest_sent, "VIT-1").unit_price_cents == 7_200
    assert [e.action for e in quote.events][-2:] == ["revision_started", "sent"]


def test_the_newest_sent_version_supersedes_the_earlier_ones_for_acceptance(clinician, staff, booster):
    quote = issued_quote(clinician, staff, ("VIT-1", 2))
    issue(staff, quote, prices={"VIT-1": (9_000, 0)})
    quote = reload(quote)

    with pytest.raises(InvalidTransition, match="newer version"):
        acceptance.acceptable_version(clinician, quote, 1)
    assert acceptance.acceptable_version(clinician, quote, 2).number == 2


def test_a_declined_quote_cannot_be_revised(clinician, staff, booster):
    quote = issued_quote(clinician, staff, ("VIT-1", 2))
    quotes.decline(clinician, reload(quote), "Found it cheaper.")

    with pytest.raises(InvalidTransition, match="cannot be revised"):
        quote_builder.open_draft(staff, reload(quote))
    db.session.rollback()
    assert len(reload(quote).versions) == 1


@pytest.mark.parametrize("outcome", ["accepted", "declined"])
def test_a_revision_left_open_cannot_be_edited_or_sent_once_the_quote_is_accepted_or_declined(
    clinician, staff, booster, outcome
):
    quote = issued_quote(clinician, staff, ("VIT-1", 2))
    revision = quote_builder.open_draft(staff, reload(quote))
    if outcome == "accepted":
        accept_quote(clinician, quote)
    else:
        quotes.decline(clinician, reload(quote), "Found it cheaper.")
    before = version_snapshot(reload(QuoteVersion, revision.id))
    line = revision.lines[0]

    with pytest.raises(InvalidTransition, match=f"is {outcome}"):
        quote_builder.save_draft(
            staff,
            reload(quote),
            edit(revision, lines=[LineEdit(line_id=line.id, quantity=9, unit_price_cents=1, discount_bps=0)]),
        )
    db.session.rollback()
    with pytest.raises(InvalidTransition, match=f"is {outcome}"):
        quote_builder.add_line(staff, reload(quote), description="Needles 30G", quantity=10, unit_price_cents=50)
    db.session.rollback()
    with pytest.raises(InvalidTransition, match=f"is {outcome}"):
        quote_builder.send_quote(staff, reload(quote))
    db.session.rollback()

    assert version_snapshot(reload(QuoteVersion, revision.id)) == before
    quote = reload(quote)
    assert quote.status == QuoteStatus(outcome) and quote.latest_sent.number == 1
