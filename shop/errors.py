"""Typed business errors raised by services and mapped to messages by views."""


class ShopError(Exception):
    """A business rule refused the operation; the message is safe to show to the user."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotEligible(ShopError):
    """The actor may not do this (wrong role, not verified, not a prescriber...)."""


class InvalidTransition(ShopError):
    """The record is not in a state that allows this step (already decided, for example)."""


class DuplicateAccount(ShopError):
    """An account with this email address already exists."""


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


class CreditLimitExceeded(ShopError):
    """An on-account order would take the practice over its credit limit."""


class CartChanged(ShopError):
    """The cart changed under a checkout (ordered from another tab, for example); nothing was placed."""
