"""Thirty-two desks confirming orders at the same moment, each in its own thread, app context and
database connection: every order gets an invoice, the numbers run from 1 to 32 without a gap or a
duplicate; and cancellations at the same moment number their credit notes the same way."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from shop import clock
from shop.accounts.models import User
from shop.cart import services as carts
from shop.extensions import db
from shop.invoicing.models import CreditNote, Invoice
from shop.ordering import orders
from shop.ordering.models import CancelCause, Order
from tests.factories import fill_cart, make_clinician, make_staff, make_variant, place_order

THREADS = 32


def all_at_once(ctx, order_ids: list[int], staff_id: int, action) -> list:
    start = threading.Barrier(len(order_ids))

    def attempt(order_id: int):
        with ctx.app_context():
            try:
                staff = db.session.get(User, staff_id)
                order = db.session.get(Order, order_id)
                _ = (order.lines, order.practice.addresses, order.invoice)
                db.session.rollback()  # no read transaction held open while waiting
                start.wait(timeout=60)
                action(db.session.get(Order, order_id), staff)
                return None
            except Exception as error:  # noqa: BLE001 - reported to the test, which fails on any
                return error
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(order_ids)) as pool:
        return [future.result(timeout=300) for future in [pool.submit(attempt, i) for i in order_ids]]


def placed_orders(count: int) -> list[int]:
    make_variant("RACE-1", price_cents=1_000, stock=count * 2)
    clinicians = [make_clinician(on_account=True) for _ in range(4)]
    ids = []
    for n in range(count):
        clinician = clinicians[n % 4]
        fill_cart(clinician, ("RACE-1", 1))
        ids.append(place_order(clinician).id)
    return ids


def sequence(model) -> list[int]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(model.sequence)).all())


def test_thirty_two_invoices_issued_at_the_same_moment_are_numbered_without_gap_or_duplicate(ctx):
    order_ids = placed_orders(THREADS)
    staff = make_staff()

    outcomes = all_at_once(ctx, order_ids, staff.id, lambda order, desk: orders.confirm(order, desk))

    assert outcomes == [None] * THREADS
    assert sequence(Invoice) == list(range(1, THREADS + 1))
    numbers = db.session.scalars(select(Invoice.number)).all()
    assert len(set(numbers)) == THREADS
    assert all(number.startswith(f"INV-{clock.today().year}-") for number in numbers)
    assert db.session.scalar(select(db.func.count()).select_from(Invoice).where(Invoice.order_id.in_(order_ids))) == 32


def test_credit_notes_issued_at_the_same_moment_are_numbered_without_gap_or_duplicate(ctx):
    order_ids = placed_orders(16)
    staff = make_staff()
    for order_id in order_ids:
        orders.confirm(db.session.get(Order, order_id), staff)

    outcomes = all_at_once(
        ctx, order_ids, staff.id, lambda order, desk: orders.cancel(order, desk, "Asked to.", CancelCause.STAFF)
    )

    assert outcomes == [None] * 16
    assert sequence(CreditNote) == list(range(1, 17))


def test_cancellations_and_checkouts_of_one_practice_at_the_same_moment_never_deadlock(ctx):
    """Cancelling an invoiced order releases stock and credits the invoice under the practice's
    lock; a checkout on account takes the practice's lock, then the stock: both take the practice
    first, so they queue instead of waiting on each other."""
    make_variant("BOTH-1", price_cents=1_000, stock=200)
    owner = make_clinician(on_account=True)
    buyers = [make_clinician(practice_of=owner) for _ in range(6)]
    staff = make_staff()
    confirmed = []
    for _ in range(6):
        fill_cart(owner, ("BOTH-1", 1))
        order = place_order(owner)
        orders.confirm(order, staff)
        confirmed.append(order.id)
    for buyer in buyers:
        fill_cart(buyer, ("BOTH-1", 2))
    staff_id, buyer_ids = staff.id, [buyer.id for buyer in buyers]  # read here, not in the threads
    start = threading.Barrier(12)

    def cancel(order_id: int):
        with ctx.app_context():
            try:
                desk = db.session.get(User, staff_id)
                db.session.rollback()
                start.wait(timeout=60)
                orders.cancel(db.session.get(Order, order_id), desk, "Asked to.", CancelCause.STAFF)
                return None
            except Exception as error:  # noqa: BLE001 - reported to the test
                return error
            finally:
                db.session.remove()

    def checkout(user_id: int):
        with ctx.app_context():
            try:
                user = db.session.get(User, user_id)
                expected = carts.view_cart(user).totals.total_cents
                db.session.rollback()
                start.wait(timeout=60)
                place_order(db.session.get(User, user_id), expected_total_cents=expected)
                return None
            except Exception as error:  # noqa: BLE001 - reported to the test
                return error
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=12) as pool:
        futures = [pool.submit(cancel, i) for i in confirmed] + [pool.submit(checkout, b) for b in buyer_ids]
        outcomes = [future.result(timeout=300) for future in futures]

    assert outcomes == [None] * 12
    db.session.expire_all()
    assert sequence(CreditNote) == list(range(1, 7))
