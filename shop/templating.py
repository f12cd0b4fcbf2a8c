"""What every template can use: the formatting filters, the enums pages compare with, the
limits, the supplier's details and the header's cart count."""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, g
from flask_login import current_user
from sqlalchemy import Select, bindparam, func, literal, select

from shop.access import Desk, is_verified_clinician, may_open, sees_history
from shop.accounts.licences import ApplicationAction, ApplicationStatus
from shop.accounts.models import Profession
from shop.cart.models import CartLine
from shop.core import limits
from shop.core.formatting import country_name, local_datetime, long_date, money
from shop.core.letterhead import shop_details
from shop.core.outbox import MailStatus
from shop.core.paging import counted
from shop.core.pricing import percent
from shop.extensions import db
from shop.ordering.history import ORDER_EVENT_LABELS
from shop.ordering.models import OrderAction, OrderStatus, PaymentMethod
from shop.practices.models import PracticeRole, PracticeStatus
from shop.practices.terms import suspension_notice
from shop.quoting.models import QUOTE_EVENT_LABELS, QuoteAction, QuoteStatus
from shop.recalls.acknowledging import unacknowledged_count_query


def header_counts(user, verified: bool) -> tuple[int, int]:
    """For the header, in one statement: packs in a verified clinician's cart, and the open recalls
    the clinician's practice has not acknowledged yet (0, 0 for anyone else)."""
    if not user.is_authenticated or not user.is_clinician:
        return 0, 0
    in_practice = user.practice_id is not None
    params = {"user": user.id, "practice": user.practice_id}
    row = db.session.execute(_header_counts(verified, in_practice), params).one()
    return row[0], row[1]


@lru_cache(maxsize=4)
def _header_counts(verified: bool, in_practice: bool) -> Select:
    """The header's counts for the user USER of the practice PRACTICE (parameters): made once, as
    every page asks them."""
    packs = select(func.coalesce(func.sum(CartLine.quantity), 0)).where(CartLine.user_id == bindparam("user"))
    recalls = unacknowledged_count_query(bindparam("practice")) if in_practice else select(literal(0))
    return select((packs if verified else select(literal(0))).scalar_subquery(), recalls.scalar_subquery())


def register(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(long_date, "long_date")
    # Query arguments a link may carry on: url_for reads names starting with "_" as its own.
    app.add_template_filter(lambda args: {k: v for k, v in dict(args).items() if not k.startswith("_")}, "link_args")
    app.add_template_filter(country_name, "country_name")
    app.add_template_filter(counted, "counted")
    app.jinja_env.globals["event_labels"] = ORDER_EVENT_LABELS
    app.jinja_env.globals["quote_event_labels"] = QUOTE_EVENT_LABELS
    # Templates compare a record's status and offered actions with these, never with strings.
    for enum in (
        ApplicationAction,
        ApplicationStatus,
        Desk,
        MailStatus,
        OrderAction,
        OrderStatus,
        PaymentMethod,
        PracticeRole,
        PracticeStatus,
        Profession,
        QuoteAction,
        QuoteStatus,
    ):
        app.jinja_env.globals[enum.__name__] = enum
    app.jinja_env.globals["limits"] = limits
    # Whether the signed-in member of staff may open a back-office page: the gate's own rule.
    app.jinja_env.globals["may_open_page"] = lambda endpoint: may_open(current_user, endpoint)

    @app.context_processor
    def shop_context():
        # A page for a failure asks the database nothing, not even who is signed in.
        plain = g.get("plain_page", False) or not current_user  # (no user outside a request: emails)
        verified = not plain and is_verified_clinician(current_user)
        suspended = verified and current_user.practice.is_suspended
        packs, recalls_due = (0, 0) if plain else header_counts(current_user, verified)
        return {
            "suspension_notice": suspension_notice(current_user.practice) if suspended else "",
            "cart_count": packs,
            "recalls_due": recalls_due,
            "shop": shop_details(),
            "shop_currency": app.config["SHOP_CURRENCY"],
            "shop_market": app.config["SHOP_MARKET"],
            "user_is_verified": verified,
            # A lapsed licence still reads its practice's history (orders, quotes, invoices).
            "user_sees_history": verified
            or (not plain and current_user.is_authenticated and sees_history(current_user)),
            "signed_in": not plain and current_user.is_authenticated,
            "plain_page": plain,
        }
