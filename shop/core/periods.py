"""Periods people ask for by day (an audit log's or a ledger's "from" and "to"), in the shop's
time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from werkzeug.datastructures import MultiDict

from shop import clock

DATE_FORMAT_HINT = "Enter the date as YYYY-MM-DD."


def days_asked(args: MultiDict, names=("since", "until")) -> tuple[dict[str, date | None], list[tuple[str, str]]]:
    """The dates in `args` under `names`, and the problems (name, message) of those that are not dates."""
    days, problems = {}, []
    for name in names:
        raw = "".join(ch for ch in args.get(name, "") if ch.isprintable()).strip()[:20]
        try:
            days[name] = date.fromisoformat(raw) if raw else None
            if days[name] is not None and not date.min < days[name] < date.max:
                raise ValueError(raw)
        except ValueError:
            days[name] = None
            problems.append((name, DATE_FORMAT_HINT))
    return days, problems


def start_of(day: date) -> datetime:
    """Midnight of `day` in the shop's time zone, as the stored UTC moment."""
    return datetime.combine(day, time.min, tzinfo=clock.shop_zone())


def within(column, since: date | None, until: date | None) -> list:
    """Conditions: `column` falls on a day from `since` to `until`, both included."""
    conditions = []
    if since:
        conditions.append(column >= start_of(since))
    if until:
        conditions.append(column < start_of(until + timedelta(days=1)))
    return conditions


def period_asked(args: MultiDict) -> tuple[date | None, date | None, str | None]:
    """The days `since` and `until` in `args`, and the message why they are not a period
    (a date that is not one, or the first after the last); the message is None when they are."""
    days, problems = days_asked(args)
    since, until = days["since"], days["until"]
    if problems:
        return since, until, problems[0][1]
    if since and until and since > until:
        return since, until, "The first day must come before the last."
    return since, until, None
