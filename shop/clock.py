"""The one place the shop asks for the time.

Everything stores UTC; `today()` answers in the shop's own time zone, because licence expiry
dates and quote validity are calendar dates where the supplier is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def shop_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SHOP_TIMEZONE"])


def today() -> date:
    """Today's date in the shop's time zone."""
    return now().astimezone(shop_zone()).date()


def local(moment: datetime) -> datetime:
    """A stored UTC moment in the shop's time zone, for display."""
    return moment.astimezone(shop_zone())
