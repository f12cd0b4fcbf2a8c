"""The orders desk keys in an order for a practice that phoned, faxed or emailed: find the
practice, choose the clinician, type the lines (checked as they are typed, and again with the
"Check" button when scripts are off), and place it; or place what a clinician has in their cart.
A card order's payment link can be emailed again from the order's page."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from shop.access import Desk, desk_pages
from shop.backoffice import bp
from shop.cart import services as carts
from shop.core.formatting import money
from shop.errors import InvalidTransition, ShopError
from shop.extensions import db
from shop.forms import EmptyForm, clean_text, posted, show_error
from shop.ordering import desk_orders, orders
from shop.ordering.checkout import CheckoutRequest
from shop.ordering.forms import DeskOrderForm
from shop.ordering.models import OrderChannel, OrderStatus, PaymentMethod
from shop.practices.models import Practice

desk_pages(__name__, Desk.ORDERS)


def _practice_asked() -> Practice | None:
    raw = (request.form.get("practice_id") or request.args.get("practice") or "").strip()
    if not raw:
        return None
    practice = db.session.get(Practice, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    if practice is None:
        abort(404)
    return practice


@bp.route("/orders/new", methods=["GET", "POST"])
def order_new():
    practice = _practice_asked()
    if practice is None:
        return _choose_practice()
    clinicians = desk_orders.clinicians_of(practice)
    form = DeskOrderForm()
    form.offer(practice, clinicians, clinicians[0] if clinicians else None)
    if request.method == "GET" and request.args.get("cart"):
        _fill_from_cart(form, clinicians)
    refused = False
    if form.validate_on_submit() and request.form.get("action") == "place":
        placed = _place(practice, form)
        if placed is not None:
            return placed
        refused = True
    clinician = next((c for c in clinicians if c.id == form.clinician_id.data), None)
    if clinician is not None and form.ordering_cart:
        form.lines.data = desk_orders.cart_text(clinician)
        form.lines.raw_data = [form.lines.data]
    check = desk_orders.check_lines(practice, clinician, form.lines.data) if clinician and form.lines.data else None
    if check is not None and check.totals is not None:
        # What the desk now sees is what it places (raw_data too: a field shows what was posted).
        form.expected_total.data = check.totals.total_cents
        form.expected_total.raw_data = [str(check.totals.total_cents)]
    return render_template(
        "staff/orders/new.html",
        practice=practice,
        form=form,
        check=check,
        clinicians=clinicians,
        carts={c.id: len(carts.lines_of(c)) for c in clinicians},
    ), 422 if form.errors or refused else 200


def _fill_from_cart(form: DeskOrderForm, clinicians) -> None:
    """The clinician asked on the phone to order what is in their cart: its lines, placed as one
    order from the cart (which is emptied with it)."""
    clinician = next((c for c in clinicians if str(c.id) == request.args.get("clinician")), None)
    if clinician is not None:
        form.clinician_id.data = clinician.id
        form.lines.data = desk_orders.cart_text(clinician)
        form.from_cart.data = "1" if form.lines.data else ""


def _place(practice: Practice, form: DeskOrderForm):
    if not form.payment_method.data:
        form.payment_method.errors = ["Choose how the order is paid."]
        return None
    try:
        placed = desk_orders.place_desk_order(
            current_user,
            desk_orders.DeskOrder(
                practice_id=practice.id,
                clinician_id=form.clinician_id.data,
                lines=form.lines.data or "",
                address_id=form.address_id.data,
                channel=OrderChannel(form.channel.data),
                from_cart=form.ordering_cart,
                checkout=CheckoutRequest(
                    address_id=form.address_id.data or 0,
                    payment_method=PaymentMethod(form.payment_method.data),
                    expected_total_cents=form.expected_total.data or 0,
                    po_number=form.po_number.data or "",
                    note=form.note.data or "",
                ),
            ),
        )
    except ShopError as error:
        show_error(form, error)
        return None
    message = f"Order {placed.number} is placed for {practice.name}; the clinician has the confirmation."
    if placed.payment_method == PaymentMethod.CARD:
        order = orders.order_by_number(placed.number)
        sent = desk_orders.send_payment_link(order, current_user)
        message += (
            " The payment link is emailed."
            if sent
            else " Stripe could not be reached: the email tells them to pay from their order page."
        )
    flash(message, "success")
    return redirect(url_for("staff.order", number=placed.number), code=303)


def _choose_practice():
    q = clean_text(request.args.get("q", ""))[:80]
    found = []
    if q:
        found = db.session.scalars(
            select(Practice)
            .where(db.func.lower(Practice.name).contains(q.lower(), autoescape=True))
            .order_by(Practice.name)
            .limit(20)
        ).all()
    return render_template("staff/orders/choose_practice.html", q=q, found=found)


@bp.route("/orders/new/check", methods=["POST"])
def order_new_check():
    """The lines as typed so far, checked for the clinician and priced for the practice (JSON,
    for the page's live check)."""
    practice = _practice_asked()
    clinician_id = request.form.get("clinician_id", "")
    clinician = next((c for c in practice.members if str(c.id) == clinician_id), None) if practice else None
    if practice is None or clinician is None:
        return jsonify(ok=False, message="Choose the practice and the clinician first.", lines=[]), 422
    check = desk_orders.check_lines(practice, clinician, clean_text(request.form.get("lines") or "")[:10_000])
    return jsonify(
        ok=check.ok,
        message=check.problems[0] if check.problems else "",
        lines=[
            {
                "line": line.number,
                "typed": line.typed,
                "sku": line.variant.sku if line.variant else "",
                "product": f"{line.variant.product.name}, {line.variant.label}" if line.variant else "",
                "quantity": line.quantity,
                "unit_price": money(line.unit_price_cents) if line.variant else "",
                "total": money(line.total_cents) if line.variant else "",
                "problem": line.problem,
            }
            for line in check.lines
        ],
        total=money(check.totals.total_cents) if check.totals else "",
        total_cents=check.totals.total_cents if check.totals else None,
    )


@bp.route("/orders/<order_number:number>/payment-link", methods=["POST"])
def order_payment_link(number: str):
    found = orders.order_by_number(number)
    if found is None:
        abort(404)

    def send():
        if found.status != OrderStatus.AWAITING_PAYMENT or found.keyed_by_id is None:
            raise InvalidTransition(f"Order {number} is not a keyed-in order waiting for its card payment.")
        desk_orders.send_payment_link(found, current_user)

    posted(EmptyForm(), send, f"{number}: the payment link is emailed to {found.clinician_email}.")
    return redirect(url_for("staff.order", number=number), code=303)
