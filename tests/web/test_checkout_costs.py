"""What placing an order costs the database: `POST /checkout` in at most MOST_STATEMENTS
statements, the same for one line as for many, and nothing but the stock's own writes while the
stock rows are locked (the emails are written before, never while other buyers wait)."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.factories import clinician_with_cart, make_variant
from tests.helpers import checkout_page_values, placed_order_number

MOST_STATEMENTS = 15


def checkout_statements(signed_in, lines: int, method: str = "account") -> list[str]:
    for n in range(lines):
        make_variant(f"VIT-{n}", stock=50)
    user = clinician_with_cart(*((f"VIT-{n}", n + 1) for n in range(lines)), on_account=True)
    browser = signed_in(user)
    page = browser.get("/checkout")
    total, addresses = checkout_page_values(page.get_data(as_text=True))
    form = {"address_id": addresses[0][0], "payment_method": method, "expected_total": total}
    form["csrf_token"] = browser.csrf_token()
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        response = browser.post("/checkout", form)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert placed_order_number(response)
    return sent


def round_trips(sent: list[str]) -> int:
    """Statements sent, counting a run of the same INSERT once: SQLite's driver inserts rows one
    at a time where PostgreSQL's takes a batch in one statement."""
    return sum(1 for n, s in enumerate(sent) if not (n and s.startswith("INSERT") and s == sent[n - 1]))


@pytest.mark.parametrize("lines", [1, 3, 8])
def test_placing_an_order_costs_a_few_statements_whatever_the_cart(signed_in, lines):
    sent = checkout_statements(signed_in, lines)
    assert len([s for s in sent if s.startswith("UPDATE variants SET stock_on_hand")]) == 1  # every line at once
    assert round_trips(sent) <= MOST_STATEMENTS, sent


def test_nothing_but_the_stock_is_written_while_its_rows_are_locked(signed_in):
    sent = checkout_statements(signed_in, 3)
    first_lock = next(n for n, s in enumerate(sent) if s.startswith("UPDATE variants SET stock_on_hand"))
    after = sent[first_lock:]
    assert all(s.startswith(("UPDATE variants SET stock_on_hand", "INSERT INTO stock_movements")) for s in after), after
    before = sent[:first_lock]
    assert any(s.startswith("INSERT INTO outbox_messages") for s in before)  # the emails, written first
