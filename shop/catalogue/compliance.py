"""May this clinician buy this, and if not, why: the one place the shop's sale rules live.

A variant is sold only while it and its product are active; a product only where it is cleared
for sale in the shop's market (SHOP_MARKET); a prescription-only product only to a clinician
whose verified licence is of a prescribing profession (PRESCRIBER_PROFESSIONS). The catalogue,
the cart, quick order, quote requests, the quotes desk's builder, acceptance and checkout all
ask here and show the refusal's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from flask import current_app

from shop.accounts.models import User, prescriber_professions
from shop.catalogue.models import Product, Variant


class Reason(StrEnum):
    NOT_SOLD = "not_sold"
    NOT_CLEARED = "not_cleared"
    PRESCRIPTION_ONLY = "prescription_only"


@dataclass(frozen=True)
class Refusal:
    """Why a sale is refused, with the words each page uses for it."""

    reason: Reason
    market: str

    @property
    def phrase(self) -> str:
        """What follows the product's name: "Kybella (KYB-1) is prescription-only and …"."""
        if self.reason == Reason.NOT_SOLD:
            return "is no longer sold"
        if self.reason == Reason.NOT_CLEARED:
            return f"is not cleared for sale in our market ({self.market})"
        return "is prescription-only and can be ordered by prescribers only"

    @property
    def notice(self) -> str:
        """The product page's note about the product as a whole."""
        if self.reason == Reason.NOT_CLEARED:
            return (
                f"This product is not cleared for sale in the market we serve ({self.market}), "
                "so it cannot be ordered here."
            )
        if self.reason == Reason.PRESCRIPTION_ONLY:
            return (
                "This product is prescription-only and can be ordered only by prescribers. "
                "Your licence on file is not a prescriber's licence."
            )
        return "This product is no longer sold."

    @property
    def badge(self) -> str | None:
        """A catalogue card's badge, for the refusals that concern everyone."""
        return f"Not for sale in {self.market}" if self.reason == Reason.NOT_CLEARED else None

    def about(self, variant: Variant) -> str:
        """The refusal as a sentence about one variant: "Kybella (KYB-1) is no longer sold."."""
        return f"{variant.product.name} ({variant.sku}) {self.phrase}."


def _market() -> str:
    return current_app.config["SHOP_MARKET"]


def _prescriber(user: User) -> bool:
    application = user.application
    return application is not None and application.profession in prescriber_professions()


def product_refusals(product: Product, buyer: User | None) -> list[Refusal]:
    """Everything that stops `buyer` ordering the product at all, as the product page lists it
    (prescription first, then the market); with no buyer (staff looking), the market only."""
    return refusals_of(product.prescription_only, product.sale_permitted_in(_market()), buyer)


def refusals_of(prescription_only: bool, sale_permitted: bool, buyer: User | None) -> list[Refusal]:
    """`product_refusals` of a product known by these facts (`sale_permitted`: in the shop's
    market), as a catalogue card reads them."""
    market = _market()
    refusals = []
    if buyer is not None and prescription_only and not _prescriber(buyer):
        refusals.append(Refusal(Reason.PRESCRIPTION_ONLY, market))
    if not sale_permitted:
        refusals.append(Refusal(Reason.NOT_CLEARED, market))
    return refusals


def variant_refusal(variant: Variant, buyer: User, refusals: Sequence[Refusal] | None = None) -> Refusal | None:
    """Why `buyer` cannot buy `variant`, the first reason that applies; None when they can.
    `refusals`: its product's for this buyer (product_refusals), where already worked out."""
    if refusals is None:
        refusals = product_refusals(variant.product, buyer) if variant.sellable else []
    return option_refusal(variant.sellable, refusals)


def option_refusal(sellable: bool, refusals: Sequence[Refusal]) -> Refusal | None:
    """`variant_refusal` of an option known by whether it is on sale (it and its product
    active) and its product's refusals."""
    if not sellable:
        return Refusal(Reason.NOT_SOLD, _market())
    # A product not cleared in the market is refused for that before anyone's licence counts.
    return next((r for r in refusals if r.reason == Reason.NOT_CLEARED), refusals[0] if refusals else None)
