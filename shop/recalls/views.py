"""A practice's recall notices, for its members: the list, a notice with what the practice
received, and the acknowledgement. Open to every member, verified or not, so a lapsed licence
or a suspended practice never stops a recall being answered. Another practice's is a 404."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user

from shop.access import Policy, protect
from shop.forms import EmptyForm, posted
from shop.recalls import acknowledging
from shop.shipping.records import SupplyFilter, supplies

bp = Blueprint("recalls", __name__)
protect(bp, Policy.CLINICIAN)


@bp.app_context_processor
def _recalls_of_orders():
    """`open_recalls(order)` for order pages: the practice's notices of open recalls of lots the
    order received."""

    def open_recalls(order):
        lot_ids = {line.lot_id for shipment in order.shipments for line in shipment.lines}
        return acknowledging.open_notices_for_lots(order.practice_id, lot_ids)

    return {"open_recalls": open_recalls}


@bp.route("/recalls")
def index():
    return render_template("recalls/index.html", notices=acknowledging.notices_of(current_user))


@bp.route("/recalls/<id:recall_id>", methods=["GET", "POST"])
def detail(recall_id: int):
    notice = acknowledging.notice_for(current_user, recall_id) or abort(404)
    form = EmptyForm()
    if form.is_submitted():
        posted(
            form,
            lambda: acknowledging.acknowledge(current_user, notice),
            "Thank you: the recall is acknowledged for your practice.",
        )
        return redirect(url_for("recalls.detail", recall_id=recall_id), code=303)
    recall = notice.recall
    received = supplies(SupplyFilter(practice_id=notice.practice_id, lot_ids=tuple(lot.id for lot in recall.lots)))
    return render_template("recalls/detail.html", notice=notice, recall=recall, received=received, form=form)
