"""A request that only read ends its transaction with COMMIT (so that the driver keeps the
statements it prepared on the connection); a request that wrote anything it did not commit, or
raised, is rolled back as before, and nothing it left uncommitted is saved."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from shop.catalogue.models import Product, Variant
from shop.core.read_only import end_read_only_transaction
from shop.extensions import db
from tests.factories import make_clinician, make_product


@contextmanager
def transaction_ends():
    """How the transactions of any engine end while the block runs: "commit" or "rollback"."""
    ends: list[str] = []

    def committed(_connection) -> None:
        ends.append("commit")

    def rolled_back(_connection) -> None:
        ends.append("rollback")

    event.listen(Engine, "commit", committed)
    event.listen(Engine, "rollback", rolled_back)
    try:
        yield ends
    finally:
        event.remove(Engine, "commit", committed)
        event.remove(Engine, "rollback", rolled_back)


def end_of_request(exc: BaseException | None = None) -> None:
    """What the app does when a request's context ends: this teardown, then the session removed."""
    end_read_only_transaction(exc)
    db.session.remove()


def names() -> list[str]:
    return list(db.session.scalars(select(Product.name).order_by(Product.name)))


@pytest.fixture
def product():
    """A saved product, and a new session for the "request" the test plays."""
    make_product(name="Aurora Glow", slug="aurora")
    db.session.commit()
    db.session.remove()


def test_a_transaction_that_only_read_is_committed(product):
    with transaction_ends() as ends:
        assert names() == ["Aurora Glow"]
        end_of_request()
    assert ends == ["commit"]


def test_a_write_flushed_but_not_committed_is_rolled_back(product):
    with transaction_ends() as ends:
        product = db.session.scalar(select(Product))
        product.name = "Renamed"
        db.session.flush()
        end_of_request()
    assert ends == ["rollback"]
    assert names() == ["Aurora Glow"]


def test_a_change_not_yet_flushed_is_rolled_back(product):
    with transaction_ends() as ends:
        db.session.scalar(select(Product)).name = "Renamed"
        end_of_request()
    assert ends == ["rollback"]
    assert names() == ["Aurora Glow"]


def test_a_statement_that_writes_by_hand_is_rolled_back(product):
    with transaction_ends() as ends:
        db.session.execute(text("UPDATE products SET name = 'Renamed'"))
        end_of_request()
    assert ends == ["rollback"]
    assert names() == ["Aurora Glow"]


def test_a_request_that_raised_is_rolled_back(product):
    with transaction_ends() as ends:
        names()
        end_of_request(RuntimeError("the view failed"))
    assert ends == ["rollback"]


def test_a_transaction_with_a_failed_statement_is_rolled_back(product):
    with transaction_ends() as ends:
        with pytest.raises(DBAPIError):
            db.session.execute(text("SELECT no_such_column FROM products"))
        end_of_request()
    assert ends == ["rollback"]


def test_reads_after_a_commit_in_the_same_request_are_committed(product):
    with transaction_ends() as ends:
        db.session.scalar(select(Product)).name = "Renamed"
        db.session.commit()  # a verb's own transaction, as unit_of_work commits it
        names()
        end_of_request()
    assert ends == ["commit", "commit"]
    assert names() == ["Renamed"]


def test_a_page_view_that_only_reads_ends_with_a_commit(signed_in, product):
    browser = signed_in(make_clinician())
    browser.get("/catalogue")
    with transaction_ends() as ends:
        assert browser.get("/catalogue").status_code == 200
    assert ends == ["commit"]


def test_read_only_requests_keep_the_statements_psycopg_prepared():
    """psycopg prepares a statement the fifth time a connection runs it, and forgets all it
    prepared at a ROLLBACK: requests ending with a rollback would never reuse a plan."""
    statement = select(func.count()).select_from(Variant).where(Variant.sku == "PREPARED-1")
    connections = max(1, db.engine.pool.checkedin())
    with transaction_ends() as ends:
        for _ in range(6 * connections):  # every pooled connection runs it at least six times
            db.session.execute(statement).scalar_one()
            end_of_request()
    assert ends and set(ends) == {"commit"}
    if db.engine.dialect.name == "postgresql":
        prepared = db.session.scalars(
            text("SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%variants.sku = $1%'")
        ).all()
        assert prepared, "the statement was not prepared"
