"""When the database goes away (a PostgreSQL restart under load), people see the shop's own
page saying so, with the desks' numbers, never a bare "Internal Server Error" or a traceback;
the health check says 503 meanwhile; and the shop answers again as soon as the database does."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from shop.extensions import db
from tests.factories import make_clinician, make_staff
from tests.helpers import database_away, text

UNAVAILABLE = "The shop is unavailable for a moment"


@pytest.mark.parametrize("who", ["clinician", "staff"])
@pytest.mark.parametrize("path", ["/catalogue", "/orders", "/staff", "/account"])
def test_a_signed_in_page_during_an_outage_is_the_shops_own_page(app, signed_in, who, path):
    browser = signed_in(make_clinician() if who == "clinician" else make_staff())

    with database_away(app):
        response = browser.get(path)

    assert response.status_code == 503
    page = text(response)
    assert UNAVAILABLE in page and "Nothing you saved is lost" in page
    assert "+353 21 555 0140" in page  # customer care
    assert "Traceback" not in page and "OperationalError" not in page
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_form_posted_during_an_outage_gets_the_same_page(app, signed_in):
    browser = signed_in(make_clinician())
    token = browser.csrf_token()

    with database_away(app):
        response = browser.post("/cart/add", {"sku": "VIT-1", "quantity": "1", "csrf_token": token}, csrf=False)

    assert response.status_code == 503 and UNAVAILABLE in text(response)


def test_the_health_check_says_unavailable_meanwhile_and_the_shop_answers_again_after(app, signed_in, client):
    browser = signed_in(make_clinician())
    with database_away(app):
        assert client.get("/healthz").status_code == 503
    assert client.get("/healthz").status_code == 200
    assert browser.get("/catalogue").status_code == 200


def test_a_connection_the_server_dropped_is_replaced_before_a_page_uses_it(app, signed_in, database_kind):
    """PostgreSQL's connections are pinged as they leave the pool: one the server ended (a
    restart, an idle timeout) is replaced, and the page answers as usual. SQLite's file has no
    connection to drop: nothing is pinged, and no request sends a statement for it."""
    browser = signed_in(make_clinician())
    with app.app_context():
        engine = db.engine
    sent = []

    def trace(connection, _record) -> None:
        connection.set_trace_callback(sent.append)

    if database_kind == "postgresql":
        with engine.connect() as connection:  # back in the pool when done
            pid = connection.scalar(db.text("SELECT pg_backend_pid()"))
        assert db.session.execute(db.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
        db.session.commit()
        response = browser.get("/catalogue")
    else:
        engine.dispose()  # the next connection made is traced
        event.listen(engine, "connect", trace)
        try:
            assert browser.get("/catalogue").status_code == 200  # made the connection: now pooled
            sent.clear()
            response = browser.get("/catalogue")  # takes it from the pool
        finally:
            event.remove(engine, "connect", trace)
            engine.dispose()
        assert sent and "SELECT 1" not in [statement.strip().upper() for statement in sent]

    assert response.status_code == 200 and UNAVAILABLE not in text(response)
