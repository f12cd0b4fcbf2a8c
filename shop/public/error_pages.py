"""The shop's own error pages, whatever went wrong: a refused or mistaken request (400, 403,
404, 405, 413, 429), a failure of the shop (500), and the database going away (503). A page for
a failure reads nothing from the database (the session is rolled back first, and the page
leaves out whatever would need a query), so people never see a bare "Internal Server Error"."""

from __future__ import annotations

from contextlib import suppress
from urllib.parse import urlsplit

from flask import Flask, flash, g, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError

from shop.extensions import db, login_manager
from shop.urls import safe_next

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Page not found", "There is nothing at this address."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: (
        "File too large",
        "The upload is larger than the shop accepts (10 MB for a licence scan). Go back and choose a smaller file.",
    ),
    429: ("Too many attempts", "Too many attempts from your connection. Wait a few minutes, then try again."),
    500: (
        "Something went wrong",
        "The shop could not complete this request. Nothing was charged or lost; please try again, or call customer care.",
    ),
    503: (
        "The shop is unavailable for a moment",
        "The shop cannot reach its records just now. Nothing you saved is lost; please try again in a minute, "
        "or call customer care.",
    ),
}


def _page(code: int):
    title, text = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, text=text), code


def _failure_page(code: int):
    """A page for a failure: the session's transaction is dropped, and the page asks nothing of
    the database (not even who is signed in)."""
    with suppress(DBAPIError):  # the connection is gone: the session is discarded at the request's end
        db.session.rollback()
    g.plain_page = True
    if "_login_user" not in g:  # who is signed in would be a query: the page does without it
        g._login_user = login_manager.anonymous_user()
    return _page(code)


def register(app: Flask) -> None:
    for code in MESSAGES:
        if code < 500:
            app.register_error_handler(code, lambda error: _page(getattr(error, "code", 500) or 500))
    app.register_error_handler(500, lambda _error: _failure_page(500))
    app.register_error_handler(DBAPIError, lambda _error: _failure_page(503))

    @app.errorhandler(CSRFError)
    def csrf_failed(_error):
        flash("Your form expired or came from another page. Please try again.", "error")
        referrer = urlsplit(request.referrer or "")
        back = safe_next(referrer.path) if referrer.netloc == request.host else None
        return redirect(back or "/", code=303)
