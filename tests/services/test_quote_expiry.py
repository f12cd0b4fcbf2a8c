"""Quote validity with a controllable clock: a quote can be accepted up to the last second of
its valid-until day in the shop's time zone (Europe/Dublin unless configured, across the
daylight-saving changes) and not a second later, whether or not `expire-quotes` ran. The run
marks quotes expired with an event, reminds the clinician two days before the end exactly once
per version (however often, or however many at once, it runs; never for a version sent with
less time than that to run), and leaves decided quotes alone.
An expired quote can be issued again as a new version and accepted."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from shop.core import mailer
from shop.core.formatting import long_date
from shop.errors import InvalidTransition, QuoteExpired
from shop.extensions import db
from shop.quoting import expiry, quotes
from shop.quoting.models import Quote, QuoteStatus
from tests.factories import accept_quote, issue, make_clinician, make_staff, simple_quote
from tests.helpers import orders_of, outbox, quote_events, reload
from tests.smtp import text_of

DUBLIN = ZoneInfo("Europe/Dublin")
SECOND = timedelta(seconds=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# The last valid day, and the moment (in UTC) the next day starts in Dublin.
BOUNDARIES = [
    pytest.param(date(2027, 1, 15), utc(2027, 1, 16, 0, 0), id="winter-GMT"),
    pytest.param(date(2027, 7, 15), utc(2027, 7, 15, 23, 0), id="summer-IST"),
    pytest.param(date(2027, 3, 27), utc(2027, 3, 28, 0, 0), id="eve-of-clocks-forward"),
    pytest.param(date(2027, 3, 28), utc(2027, 3, 28, 23, 0), id="clocks-go-forward"),
    pytest.param(date(2027, 10, 30), utc(2027, 10, 30, 23, 0), id="eve-of-clocks-back"),
    pytest.param(date(2027, 10, 31), utc(2027, 11, 1, 0, 0), id="clocks-go-back"),
]


@pytest.mark.parametrize(("valid_until", "next_day_starts"), BOUNDARIES)
def test_a_quote_is_acceptable_to_the_last_second_of_its_day_in_dublin_and_not_after(ctx, valid_until, next_day_starts):
    last_second = next_day_starts - SECOND
    # What those moments are on a clock on the wall in Dublin.
    assert last_second.astimezone(DUBLIN).replace(tzinfo=None) == datetime.combine(
        valid_until, datetime.max.time()
    ).replace(microsecond=0)
    assert next_day_starts.astimezone(DUBLIN).replace(tzinfo=None) == datetime.combine(
        valid_until + timedelta(days=1), datetime.min.time()
    )

    with time_machine.travel(
        utc(valid_until.year, valid_until.month, valid_until.day, 9) - timedelta(days=6), tick=False
    ) as clock:
        clinician, staff = make_clinician(on_account=True), make_staff()
        on_time = simple_quote(clinician, staff, sku="VIT-ON-TIME", valid_until=valid_until)
        too_late = simple_quote(clinician, staff, sku="VIT-TOO-LATE", valid_until=valid_until)

        clock.move_to(last_second)
        assert reload(Quote, too_late.number).status_at(last_second) == QuoteStatus.SENT
        order = accept_quote(clinician, on_time.number)
        assert reload(Quote, on_time.number).status == QuoteStatus.ACCEPTED and order.number

        clock.move_to(next_day_starts)
        quote = reload(Quote, too_late.number)
        assert quote.status == QuoteStatus.SENT  # expire-quotes never ran
        assert quote.status_at(next_day_starts) == QuoteStatus.EXPIRED
        with pytest.raises(QuoteExpired) as refused:
            accept_quote(clinician, too_late.number)
        assert too_late.number in refused.value.message and "expired" in refused.value.message
        assert [o.number for o in orders_of(clinician.id)] == [order.number]
        assert reload(Quote, too_late.number).status == QuoteStatus.SENT


def test_the_shop_time_zone_setting_decides_when_the_day_ends(ctx, app, monkeypatch):
    for config in (app.config, ctx.config):
        monkeypatch.setitem(config, "SHOP_TIMEZONE", "America/New_York")
    # 15 July 2027 ends at midnight in New York: 04:00 UTC on the 16th (Dublin's ended at 23:00).
    with time_machine.travel(utc(2027, 7, 10, 15), tick=False) as clock:
        setup = simple_quote(valid_until=date(2027, 7, 15))

        clock.move_to(utc(2027, 7, 16, 3, 59, 59))
        accept_quote(setup.clinician, setup.number)
        assert reload(Quote, setup.number).status == QuoteStatus.ACCEPTED

        late = simple_quote(setup.clinician, setup.staff, sku="VIT-NY", valid_until=date(2027, 7, 16))
        clock.move_to(utc(2027, 7, 17, 4, 0, 0))
        with pytest.raises(QuoteExpired):
            accept_quote(setup.clinician, late.number)


# --- expire-quotes ------------------------------------------------------------------------


def test_expire_quotes_marks_a_quote_expired_once_its_day_is_over_with_an_event(ctx, cli):
    with time_machine.travel(utc(2027, 7, 10, 9), tick=False) as clock:
        setup = simple_quote(valid_until=date(2027, 7, 15))

        clock.move_to(utc(2027, 7, 15, 22, 59, 59))  # 23:59:59 in Dublin
        result = cli("expire-quotes")
        assert result.exit_code == 0 and "0 quotes expired" in result.output
        assert reload(Quote, setup.number).status == QuoteStatus.SENT

        clock.move_to(utc(2027, 7, 15, 23, 0, 0))
        result = cli("expire-quotes")
        assert result.exit_code == 0 and "1 quote expired" in result.output
        quote = reload(Quote, setup.number)
        assert quote.status == QuoteStatus.EXPIRED
        [event] = quote_events(quote.id, "expired")
        assert (event.actor_id, event.from_status, event.to_status) == (None, "sent", "expired")
        assert "v1" in event.note

        again = cli("expire-quotes")
        assert "0 quotes expired" in again.output
        assert len(quote_events(quote.id, "expired")) == 1
        with pytest.raises(QuoteExpired):
            accept_quote(setup.clinician, setup.number)


def test_expire_quotes_leaves_accepted_declined_and_questioned_quotes_as_they_are(ctx, cli):
    with time_machine.travel(utc(2027, 7, 10, 9), tick=False) as clock:
        clinician, staff = make_clinician(on_account=True), make_staff()
        accepted = simple_quote(clinician, staff, sku="VIT-A", valid_until=date(2027, 7, 15))
        declined = simple_quote(clinician, staff, sku="VIT-D", valid_until=date(2027, 7, 15))
        questioned = simple_quote(clinician, staff, sku="VIT-C", valid_until=date(2027, 7, 15))
        accept_quote(clinician, accepted.number)
        quotes.decline(clinician, reload(Quote, declined.number), "Ordered elsewhere.")
        quotes.request_changes(clinician, reload(Quote, questioned.number), "Twenty boxes instead?")

        clock.move_to(utc(2027, 7, 20, 9))
        result = cli("expire-quotes")

        assert "0 quotes expired" in result.output
        assert reload(Quote, accepted.number).status == QuoteStatus.ACCEPTED
        assert reload(Quote, declined.number).status == QuoteStatus.DECLINED
        assert reload(Quote, questioned.number).status == QuoteStatus.CHANGES_REQUESTED


def test_an_expired_quote_can_be_issued_again_as_a_new_version_and_accepted(ctx, cli):
    with time_machine.travel(utc(2027, 7, 10, 9), tick=False) as clock:
        setup = simple_quote(valid_until=date(2027, 7, 15), quantity=10, discount_bps=1_000)
        clock.move_to(utc(2027, 7, 18, 9))
        cli("expire-quotes")
        assert reload(Quote, setup.number).status == QuoteStatus.EXPIRED

        issue(setup.staff, setup.quote, prices={"VIT-Q1": (None, 500)})
        quote = reload(Quote, setup.number)

        assert quote.status == QuoteStatus.SENT and quote.latest_sent.number == 2
        assert quote.latest_sent.valid_until == date(2027, 8, 17)  # 30 days from the re-issue
        with pytest.raises(InvalidTransition) as refused:
            accept_quote(setup.clinician, setup.number, 1)
        assert "newer version (v2)" in refused.value.message
        order = accept_quote(setup.clinician, setup.number, 2)
        assert [ln.unit_price_cents for ln in order.lines] == [11_875]
        assert reload(Quote, setup.number).status == QuoteStatus.ACCEPTED


def test_a_quote_past_its_day_can_be_issued_again_even_if_the_run_never_marked_it(ctx):
    with time_machine.travel(utc(2027, 7, 10, 9), tick=False) as clock:
        setup = simple_quote(valid_until=date(2027, 7, 15))
        clock.move_to(utc(2027, 7, 18, 9))

        issue(setup.staff, setup.quote)

        order = accept_quote(setup.clinician, setup.number, 2)
        assert order.total_cents == reload(Quote, setup.number).latest_sent.total_cents


# --- reminders ------------------------------------------------------------------------------


def reminders(mailbox, clinician) -> list:
    mailer.deliver_due()
    return [m for m in mailbox.to(clinician.email) if "expires" in m["Subject"].lower()]


def test_the_clinician_is_reminded_two_days_before_the_quote_expires_and_only_once(ctx, cli, mailbox):
    with time_machine.travel(utc(2027, 7, 1, 9), tick=False) as clock:
        setup = simple_quote(valid_until=date(2027, 7, 15))  # ends 15 July 23:00 UTC
        mailer.deliver_due()
        mailbox.clear()

        clock.move_to(utc(2027, 7, 13, 22, 0))  # 49 hours before the end
        assert "0 reminders sent" in cli("expire-quotes").output
        assert reminders(mailbox, setup.clinician) == []

        clock.move_to(utc(2027, 7, 14, 0, 0))  # 47 hours before
        assert "1 reminder sent" in cli("expire-quotes").output
        for hours in (0, 1, 12, 30):
            clock.move_to(utc(2027, 7, 14, 0, 0) + timedelta(hours=hours))
            assert "0 reminders sent" in cli("expire-quotes").output

        [reminder] = reminders(mailbox, setup.clinician)
        assert setup.number in reminder["Subject"]
        body = text_of(reminder)
        assert "15 Jul 2027" in body and f"/quotes/{setup.number}" in body
        assert len(quote_events(setup.quote.id, "reminded")) == 1


def test_a_version_sent_with_less_than_two_days_to_run_gets_no_reminder_of_what_it_just_said(ctx, cli, mailbox):
    with time_machine.travel(utc(2027, 7, 14, 9), tick=False) as clock:
        setup = simple_quote(valid_until=date(2027, 7, 15))  # sent 38 hours before the end
        mailer.deliver_due()
        [sent] = [m for m in mailbox.to(setup.clinician.email) if m["Subject"] == f"Your quote ({setup.number})"]
        assert f"valid until the end of {long_date(date(2027, 7, 15))}" in text_of(sent)
        mailbox.clear()

        for moment in (utc(2027, 7, 14, 9, 5), utc(2027, 7, 15, 12), utc(2027, 7, 15, 22, 59)):
            clock.move_to(moment)
            assert "0 quotes expired, 0 reminders sent" in cli("expire-quotes").output

        assert reminders(mailbox, setup.clinician) == []
        assert quote_events(setup.quote.id, "reminded") == [] and outbox("quote.expiring") == []
        clock.move_to(utc(2027, 7, 15, 23))
        assert "1 quote expired, 0 reminders sent" in cli("expire-quotes").output


def test_a_revision_sent_in_the_last_two_days_gets_no_reminder_though_the_version_before_had_one(ctx, cli, mailbox):
    with time_machine.travel(utc(2027, 7, 1, 9), tick=False) as clock:
        setup = simple_quote(valid_until=date(2027, 7, 15))
        clock.move_to(utc(2027, 7, 14, 9))
        assert "1 reminder sent" in cli("expire-quotes").output
        clock.move_to(utc(2027, 7, 15, 9))
        issue(setup.staff, setup.quote, valid_until=date(2027, 7, 16))  # 38 hours to run
        mailer.deliver_due()
        mailbox.clear()

        for moment in (utc(2027, 7, 15, 10), utc(2027, 7, 16, 12)):
            clock.move_to(moment)
            assert "0 reminders sent" in cli("expire-quotes").output

        assert reminders(mailbox, setup.clinician) == []
        assert [e.note for e in quote_events(setup.quote.id, "reminded")] == ["v1"]


def test_two_runs_at_the_same_moment_send_one_reminder_and_expire_once(ctx, mailbox):
    with time_machine.travel(utc(2027, 7, 1, 9), tick=False) as clock:
        clinician, staff = make_clinician(on_account=True), make_staff()
        soon = [simple_quote(clinician, staff, sku=f"VIT-S{n}", valid_until=date(2027, 7, 15)) for n in range(3)]
        over = [simple_quote(clinician, staff, sku=f"VIT-O{n}", valid_until=date(2027, 7, 13)) for n in range(3)]
        mailer.deliver_due()
        mailbox.clear()
        clock.move_to(utc(2027, 7, 14, 9))

        results = run_at_once(ctx, 6)

        assert sum(expired for expired, _ in results) == 3
        assert sum(reminded for _, reminded in results) == 3
        for setup in soon:
            assert len(quote_events(setup.quote.id, "reminded")) == 1
        for setup in over:
            assert len(quote_events(setup.quote.id, "expired")) == 1
            assert reload(Quote, setup.number).status == QuoteStatus.EXPIRED
        sent = reminders(mailbox, clinician)
        assert sorted(m["Subject"] for m in sent) == sorted(
            f"Your quote expires soon ({setup.number})" for setup in soon
        )


def run_at_once(ctx, runs: int) -> list[tuple[int, int]]:
    start = threading.Barrier(runs)

    def run():
        with ctx.app_context():
            try:
                start.wait(timeout=30)
                return expiry.expire_quotes()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=runs) as pool:
        futures = [pool.submit(run) for _ in range(runs)]
        return [future.result(timeout=120) for future in futures]


def test_a_revised_version_gets_its_own_reminder(ctx, cli, mailbox):
    with time_machine.travel(utc(2027, 7, 1, 9), tick=False) as clock:
        setup = simple_quote(valid_until=date(2027, 7, 15))
        clock.move_to(utc(2027, 7, 14, 9))
        cli("expire-quotes")
        issue(setup.staff, setup.quote, valid_until=date(2027, 7, 25))
        mailer.deliver_due()
        mailbox.clear()

        assert "0 reminders sent" in cli("expire-quotes").output  # v2 has ten days to go
        clock.move_to(utc(2027, 7, 24, 9))
        assert "1 reminder sent" in cli("expire-quotes").output
        cli("expire-quotes")

        [reminder] = reminders(mailbox, setup.clinician)
        assert "25 Jul 2027" in text_of(reminder)
        assert [e.note for e in quote_events(setup.quote.id, "reminded")] == ["v1", "v2"]


def test_accepted_and_declined_quotes_get_no_reminder(ctx, cli, mailbox):
    with time_machine.travel(utc(2027, 7, 1, 9), tick=False) as clock:
        clinician, staff = make_clinician(on_account=True), make_staff()
        accepted = simple_quote(clinician, staff, sku="VIT-A", valid_until=date(2027, 7, 15))
        declined = simple_quote(clinician, staff, sku="VIT-D", valid_until=date(2027, 7, 15))
        accept_quote(clinician, accepted.number)
        quotes.decline(clinician, reload(Quote, declined.number), "Not this quarter.")
        mailer.deliver_due()
        mailbox.clear()

        clock.move_to(utc(2027, 7, 14, 9))
        assert "0 reminders sent" in cli("expire-quotes").output

        assert reminders(mailbox, clinician) == []
        assert outbox("quote.expiring") == []


def test_a_quote_already_past_its_day_is_expired_not_reminded(ctx, cli, mailbox):
    with time_machine.travel(utc(2027, 7, 1, 9), tick=False) as clock:
        setup = simple_quote(valid_until=date(2027, 7, 15))
        mailer.deliver_due()
        mailbox.clear()
        clock.move_to(utc(2027, 7, 20, 9))

        assert "1 quote expired, 0 reminders sent" in cli("expire-quotes").output
        assert reminders(mailbox, setup.clinician) == []
