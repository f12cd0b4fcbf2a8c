"""Every error type of the shop.

`ShopError` and its subclasses are business refusals raised by services: the message is safe
to show to the person who asked, and `field` names the form field it is about, if any. The
others below them are technical conditions between the shop's own parts (a relay that cannot
be reached, a webhook that is not Stripe's); they never reach a person as they are.
"""


class ShopError(Exception):
    """A business rule refused the operation; the message is safe to show to the user."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotEligible(ShopError):
    """The actor may not do this (wrong role, not verified, not a prescriber...), or what they
    asked for is not possible as given."""


class CatalogueRefusal(ShopError):
    """A catalogue entry the desk cannot save as given (a taken SKU, a wrong check digit...)."""


class LotRefusal(ShopError):
    """A lot, a scan or a shipment the desk cannot record as given (an expired lot, a scan of
    another product, more packs than the lot holds...)."""


class InvalidTransition(ShopError):
    """The record is not in a state that allows this step (already decided, for example)."""


class QuoteExpired(InvalidTransition):
    """The quote's validity ended; it can no longer be accepted."""


class DuplicateAccount(ShopError):
    """An account with this email address already exists."""


class WeakPassword(ShopError):
    """The chosen password does not meet the password policy."""


class WrongPassword(ShopError):
    """The current password given to confirm a change is not the account's password."""


class WrongCode(ShopError):
    """A second-factor code that is not right, not current, or already used."""


class InvalidDocument(ShopError):
    """An uploaded document is not an accepted file type or is too large."""


class NotFound(ShopError):
    """The record does not exist or is not visible to the actor."""


class OutOfStock(ShopError):
    """Not enough stock for what was asked; nothing was reserved."""


class PriceChanged(ShopError):
    """A price changed since the clinician last saw it; they must review before paying."""


class PaymentUnavailable(ShopError):
    """The payment provider could not be reached or refused the request; nothing was charged."""


class IdempotencyConflict(PaymentUnavailable):
    """Stripe already used this idempotency key with other parameters: an earlier try that timed
    out here did reach Stripe, and the session lifetime computed now differs from then."""


class CreditLimitExceeded(ShopError):
    """An on-account order would take the practice over its credit limit."""


class CartChanged(ShopError):
    """The cart changed under the operation (ordered or edited from another tab, for example);
    nothing was done."""


# --- between the shop's own parts --------------------------------------------------------


class InvalidWebhook(Exception):
    """The body is not a Stripe event signed with our webhook secret."""


class EventAlreadyReceived(Exception):
    """Stripe delivered an event the shop has already recorded (twice at the same moment)."""


class EventRaced(Exception):
    """A Stripe event could not be applied for now; the webhook answers 500 and Stripe retries."""


class TransportUnavailable(Exception):
    """The mail relay cannot be reached at all; the rest of the batch waits for the next round."""
