"""What can be done with a quote comes from the quote itself (`Quote.available_actions`, from
the one transition table): the clinician decides on a sent quote that is still valid, and only
then; the desk prepares a draft while the quote is open and edits it while it is open; the
services refuse everything else with the same reasons the pages give."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from shop import clock
from shop.errors import InvalidTransition, QuoteExpired
from shop.quoting import builder, quotes
from shop.quoting.models import Quote, QuoteAction, QuoteStatus
from tests.factories import accept_quote, simple_quote
from tests.helpers import reload

DECISIONS = {QuoteAction.ACCEPT, QuoteAction.REQUEST_CHANGES, QuoteAction.DECLINE}


def test_a_sent_quote_is_open_to_the_clinicians_three_decisions_and_to_a_revision(ctx):
    setup = simple_quote()
    assert reload(Quote, setup.quote.id).available_actions(clock.now()) == DECISIONS | {QuoteAction.PREPARE}


def test_with_changes_requested_the_clinician_waits_for_the_revision_and_cannot_decline(ctx):
    setup = simple_quote()
    quotes.request_changes(setup.clinician, reload(Quote, setup.quote.id), "Twenty boxes instead?")
    quote = reload(Quote, setup.quote.id)

    assert quote.available_actions(clock.now()) == {QuoteAction.PREPARE}
    with pytest.raises(InvalidTransition, match="cannot become “declined”"):
        quotes.decline(setup.clinician, quote, "Found it cheaper.")
    assert reload(Quote, setup.quote.id).status == QuoteStatus.CHANGES_REQUESTED


def test_past_its_validity_a_quote_can_neither_be_questioned_nor_declined_only_revised(ctx):
    with time_machine.travel(datetime(2027, 7, 10, 9, tzinfo=UTC), tick=False) as travel:
        setup = simple_quote(valid_until=date(2027, 7, 15))
        travel.move_to(datetime(2027, 7, 16, 9, tzinfo=UTC))
        quote = reload(Quote, setup.quote.id)

        assert quote.available_actions(clock.now()) == {QuoteAction.PREPARE}
        with pytest.raises(QuoteExpired):
            quotes.request_changes(setup.clinician, quote, "Still valid?")
        with pytest.raises(InvalidTransition, match="is expired, so it cannot become “declined”"):
            quotes.decline(setup.clinician, reload(Quote, setup.quote.id), "Too late.")
        assert reload(Quote, setup.quote.id).status == QuoteStatus.SENT


def test_an_open_draft_is_edited_not_prepared_again(ctx):
    setup = simple_quote()
    draft = builder.open_draft(setup.staff, reload(Quote, setup.quote.id))
    quote = reload(Quote, setup.quote.id)

    assert QuoteAction.EDIT in quote.available_actions(clock.now())
    assert QuoteAction.PREPARE not in quote.available_actions(clock.now())
    assert builder.open_draft(setup.staff, quote).id == draft.id  # the same draft, not a new one


def test_an_accepted_quote_is_closed_even_to_a_revision_left_open(ctx):
    setup = simple_quote()
    builder.open_draft(setup.staff, reload(Quote, setup.quote.id))
    accept_quote(setup.clinician, setup.number, version_number=1)
    quote = reload(Quote, setup.quote.id)

    assert quote.draft is not None
    assert quote.available_actions(clock.now()) == set()
    with pytest.raises(InvalidTransition, match="cannot be revised or changed"):
        builder.save_draft(setup.staff, quote, None)
