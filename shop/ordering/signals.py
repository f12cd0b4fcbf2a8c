"""Signals by which a part of the business tells the parts built on it what happened, without
importing them."""

from blinker import Namespace

_signals = Namespace()

# Sent by ordering, in the cancelling transaction, when the shop cancels an unpaid card order
# because the payment never came. The sender is the order; a receiver returns the number of a
# quote it opened again (for the clinician's email), or None.
order_lapsed_unpaid = _signals.signal("order-lapsed-unpaid")
