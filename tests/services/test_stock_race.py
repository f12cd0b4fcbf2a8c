"""Clinicians racing for the same boxes at the same moment, each in their own thread, app context
and database connection: stock is taken atomically, never oversold, the losers keep their
carts, numbers stay unique, credit on account is never overspent, and an expired order's stock
comes back exactly once however many runs release it."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from shop import clock
from shop.accounts.models import User
from shop.cart import services as carts
from shop.catalogue import stock
from shop.catalogue.models import Variant
from shop.core.db import unit_of_work
from shop.errors import CartChanged, CreditLimitExceeded, NotEligible, OutOfStock, ShopError
from shop.extensions import db
from shop.ordering import orders
from shop.ordering.models import CancelCause, Order, OrderLine, OrderStatus, PaymentMethod
from shop.ordering.orders import cancel_unpaid_orders
from tests.factories import clinician_with_cart, fill_cart, make_clinician, make_staff, make_variant, place_order
from tests.helpers import stock_of

THREADS = 12


@dataclass(frozen=True)
class Placed:
    number: str
    placed_by_id: int


def race(ctx, user_ids: list[int], action):
    """Run `action(user)` for every user at the same moment, each in its own thread with its own
    app context; returns what each returned or raised, in the order of `user_ids`."""
    start = threading.Barrier(len(user_ids))

    def attempt(user_id: int):
        with ctx.app_context():
            try:
                user = db.session.get(User, user_id)
                expected = carts.view_cart(user).totals.total_cents
                db.session.rollback()  # no read transaction held open while waiting
                start.wait(timeout=30)
                order = action(user, expected)
                return Placed(order.number, order.placed_by_id)
            except ShopError as error:
                return error
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(user_ids)) as pool:
        futures = [pool.submit(attempt, user_id) for user_id in user_ids]
        return [future.result(timeout=120) for future in futures]


def _sold(variant_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(OrderLine.variant_id == variant_id)
    )


def _cart(user_id: int) -> list[tuple[str, int]]:
    db.session.expire_all()
    user = db.session.get(User, user_id)
    return [(line.variant.sku, line.quantity) for line in carts.lines_of(user)]


def _account(user, expected):
    return place_order(user, expected_total_cents=expected)


def test_twelve_clinicians_racing_for_the_last_boxes_never_get_more_than_there_are(ctx):
    last = make_variant("VIT-LAST", stock=7)
    buyers = [clinician_with_cart(("VIT-LAST", 2)).id for _ in range(THREADS)]

    results = race(ctx, buyers, _account)

    placed = [r for r in results if isinstance(r, Placed)]
    refused = [r for r in results if not isinstance(r, Placed)]
    assert len(placed) == 3  # 3 x 2 of 7
    assert all(isinstance(r, OutOfStock) for r in refused), refused
    assert stock_of(last.sku) == 1
    assert _sold(last.id) == 6
    assert db.session.scalar(select(func.count()).select_from(Order)) == 3
    numbers = db.session.scalars(select(Order.number)).all()
    assert sorted(numbers) == sorted(p.number for p in placed)
    assert len(set(numbers)) == 3 and all(re.fullmatch(r"ORD-\d+", n) for n in numbers)


def test_one_cart_placed_from_several_tabs_at_the_same_moment_becomes_one_order(ctx):
    plenty = make_variant("HYD-PLENTY", stock=100)
    user = clinician_with_cart(("HYD-PLENTY", 3))

    results = race(ctx, [user.id] * THREADS, _account)

    placed = [r for r in results if isinstance(r, Placed)]
    refused = [r for r in results if not isinstance(r, Placed)]
    assert len(placed) == 1
    assert all(isinstance(r, CartChanged | NotEligible) for r in refused), refused
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert stock_of(plenty.sku) == 100 - 3 and _sold(plenty.id) == 3
    assert _cart(user.id) == []


def test_the_clinicians_who_lose_the_race_are_told_why_and_keep_their_carts(ctx):
    make_variant("VIT-LAST", stock=5)
    buyers = [clinician_with_cart(("VIT-LAST", 1)).id for _ in range(THREADS)]

    results = race(ctx, buyers, _account)

    winners = {r.placed_by_id for r in results if isinstance(r, Placed)}
    losers = [(user_id, r) for user_id, r in zip(buyers, results, strict=True) if not isinstance(r, Placed)]
    assert len(winners) == 5 and len(losers) == THREADS - 5
    for user_id, error in losers:
        assert isinstance(error, OutOfStock)
        assert "VIT-LAST" in error.message and "cart is kept" in error.message
        assert _cart(user_id) == [("VIT-LAST", 1)]
    for user_id in winners:
        assert _cart(user_id) == []


def test_a_lost_race_on_one_line_gives_back_every_other_line_of_that_order(ctx):
    plenty = make_variant("HYD-PLENTY", stock=100)
    scarce = make_variant("VIT-SCARCE", stock=3)
    buyers = [clinician_with_cart(("HYD-PLENTY", 4), ("VIT-SCARCE", 1)).id for _ in range(THREADS)]

    results = race(ctx, buyers, _account)

    assert sum(isinstance(r, Placed) for r in results) == 3
    assert stock_of(scarce.sku) == 0
    assert stock_of(plenty.sku) == 100 - 3 * 4  # the losers' HYD-PLENTY was never kept
    assert _sold(plenty.id) == 12


def test_carts_holding_the_same_products_in_opposite_orders_all_check_out(ctx):
    first = make_variant("RSB-A", stock=200)
    second = make_variant("RSB-B", stock=200)
    buyers = []
    for n in range(THREADS):
        lines = [("RSB-A", 1), ("RSB-B", 1)]
        buyers.append(clinician_with_cart(*(lines if n % 2 else reversed(lines))).id)

    results = race(ctx, buyers, _account)

    assert [type(r).__name__ for r in results] == ["Placed"] * THREADS
    assert (stock_of(first.sku), stock_of(second.sku)) == (200 - THREADS, 200 - THREADS)


def test_members_of_one_practice_ordering_at_once_never_go_over_its_credit_limit(ctx):
    make_variant("BST-1", price_cents=10_000, stock=100)
    owner = make_clinician(on_account=True, credit_limit_cents=60_000)  # room for two orders of 264.45
    members = []
    for _ in range(6):
        member = make_clinician(practice_of=owner)
        fill_cart(member, ("BST-1", 2))
        members.append(member.id)

    results = race(ctx, members, _account)

    placed = [r for r in results if isinstance(r, Placed)]
    assert len(placed) == 2
    assert all(isinstance(r, CreditLimitExceeded) for r in results if not isinstance(r, Placed))
    owed = db.session.scalar(select(func.sum(Order.total_cents)).where(Order.practice_id == owner.practice_id))
    assert owed == 2 * 26_445 <= 60_000


def test_two_expiry_runs_at_the_same_moment_release_the_stock_of_an_unpaid_order_once(ctx):
    variant = make_variant("VIT-1", stock=10)
    card_orders = []
    for _ in range(3):
        user = clinician_with_cart(("VIT-1", 2), on_account=False)
        card_orders.append(place_order(user, method=PaymentMethod.CARD).id)
    assert stock_of(variant.sku) == 4

    later = clock.now() + timedelta(minutes=ctx.config["ORDER_PAYMENT_MINUTES"] + 1)
    with time_machine.travel(later, tick=False):
        start = threading.Barrier(4)

        def run():
            with ctx.app_context():
                try:
                    start.wait(timeout=30)
                    return cancel_unpaid_orders()
                finally:
                    db.session.remove()

        with ThreadPoolExecutor(max_workers=4) as pool:
            counts = [f.result(timeout=120) for f in [pool.submit(run) for _ in range(4)]]

    assert sum(counts) == 3
    assert stock_of(variant.sku) == 10
    db.session.expire_all()
    for order_id in card_orders:
        order = db.session.get(Order, order_id)
        assert order.status == OrderStatus.CANCELLED
        assert [e.action for e in order.events] == ["placed", "cancelled"]


def test_cancellations_and_checkouts_of_the_same_products_at_the_same_moment_all_go_through(ctx):
    first = make_variant("RSB-A", stock=200)
    second = make_variant("RSB-B", stock=200)
    staff = make_staff()
    # Orders whose lines list the products in the opposite order to the carts checking out.
    to_cancel = [place_order(clinician_with_cart(("RSB-B", 1), ("RSB-A", 1))).id for _ in range(THREADS // 2)]
    buyers = [clinician_with_cart(("RSB-A", 1), ("RSB-B", 1)).id for _ in range(THREADS // 2)]
    start = threading.Barrier(THREADS)

    def cancel(order_id: int):
        with ctx.app_context():
            try:
                order = db.session.get(Order, order_id)
                desk = db.session.get(User, staff.id)
                _ = [line.variant_id for line in order.lines]
                db.session.rollback()
                start.wait(timeout=30)
                orders.cancel(order, desk, "Duplicate order.", CancelCause.STAFF)
                return "cancelled"
            finally:
                db.session.remove()

    def buy(user_id: int):
        with ctx.app_context():
            try:
                user = db.session.get(User, user_id)
                expected = carts.view_cart(user).totals.total_cents
                db.session.rollback()
                start.wait(timeout=30)
                return place_order(user, expected_total_cents=expected).number
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(cancel, i) for i in to_cancel] + [pool.submit(buy, i) for i in buyers]
        results = [future.result(timeout=120) for future in futures]

    assert results[: THREADS // 2] == ["cancelled"] * (THREADS // 2)
    assert all(re.fullmatch(r"ORD-\d+", r) for r in results[THREADS // 2 :])
    assert (stock_of(first.sku), stock_of(second.sku)) == (200 - THREADS // 2, 200 - THREADS // 2)


def test_a_checkout_takes_its_rows_in_key_order_whatever_order_the_table_holds_them(ctx):
    """A cancellation puts stock back option by option in key order while a checkout takes the
    same options. The checkout must lock them in that order too, even where the table holds
    them the other way round (a small table is read from end to end, and a changed row moves),
    or each waits for the other until the database kills one."""
    first, second = make_variant("KEY-A", stock=50), make_variant("KEY-B", stock=50)
    first_id, second_id = first.id, second.id
    for variant_id in (second_id, first_id):  # the first option's newest row now lies after the second's
        with unit_of_work():
            stock.release(variant_id, 1, "ORD-SETUP")
    holding = threading.Event()

    def cancellation():
        with ctx.app_context():
            try:
                with unit_of_work():
                    stock.release(first_id, 1, "ORD-CANCELLED")
                    holding.set()
                    time.sleep(0.5)  # the checkout is waiting for the first option by now
                    stock.release(second_id, 1, "ORD-CANCELLED")
                return "released"
            finally:
                db.session.remove()

    def checkout():
        with ctx.app_context():
            try:
                assert holding.wait(timeout=30)
                with unit_of_work():
                    wanted = [(db.session.get(Variant, first_id), 2), (db.session.get(Variant, second_id), 2)]
                    stock.reserve(wanted, "ORD-PLACED")
                return "reserved"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [pool.submit(cancellation), pool.submit(checkout)]
        assert [future.result(timeout=60) for future in results] == ["released", "reserved"]
    assert (stock_of("KEY-A"), stock_of("KEY-B")) == (50, 50)  # 50 + 1 (set-up) + 1 (cancelled) - 2
