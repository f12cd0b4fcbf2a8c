"""Pages anyone may see: the professional-only notice with the desks' contacts, and health."""

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user

from shop.access import Policy, allow, protect
from shop.core.db import database_answers
from shop.extensions import limiter

bp = Blueprint("public", __name__)
protect(bp, Policy.PUBLIC)


@bp.route("/")
def home():
    return render_template("public/home.html")


@bp.route("/healthz")
@limiter.exempt
def healthz():
    if not database_answers():
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")


@bp.route("/robots.txt")
def robots():
    body = "User-agent: *\nDisallow: /catalogue\nDisallow: /staff\nDisallow: /account\n"
    return body, 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/start")
@allow(Policy.AUTHENTICATED)
def start():
    """Where a login lands when there is no `next`: each role's own front page."""
    if current_user.is_staff:
        return redirect(url_for("staff.dashboard"))
    return redirect(url_for("catalogue.index"))
