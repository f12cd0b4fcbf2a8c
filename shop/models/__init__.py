"""The shop's tables, one module per concept. Importing this package registers them all."""

from shop.models.accounts import Address, LoginSession, Practice, Profession, Role, User
from shop.models.cart import CartLine
from shop.models.catalogue import (
    Brand,
    Category,
    Ingredient,
    PriceBreak,
    Product,
    RegulatoryStatus,
    TreatmentArea,
    Variant,
)
from shop.models.mail import OutboxAttachment, OutboxMessage
from shop.models.orders import Order, OrderEvent, OrderLine, OrderStatus, PaymentMethod
from shop.models.payments import StripeEvent
from shop.models.quotes import Quote, QuoteComment, QuoteEvent, QuoteLine, QuoteRequestLine, QuoteStatus, QuoteVersion
from shop.models.verification import (
    ApplicationEvent,
    ApplicationStatus,
    LicenceApplication,
    LicenceDocument,
)

__all__ = [
    "Address",
    "ApplicationEvent",
    "ApplicationStatus",
    "Brand",
    "CartLine",
    "Category",
    "Ingredient",
    "LicenceApplication",
    "LicenceDocument",
    "LoginSession",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderStatus",
    "OutboxAttachment",
    "OutboxMessage",
    "PaymentMethod",
    "Practice",
    "PriceBreak",
    "Product",
    "Profession",
    "RegulatoryStatus",
    "Quote",
    "QuoteComment",
    "QuoteEvent",
    "QuoteLine",
    "QuoteRequestLine",
    "QuoteStatus",
    "QuoteVersion",
    "Role",
    "StripeEvent",
    "TreatmentArea",
    "User",
    "Variant",
]
