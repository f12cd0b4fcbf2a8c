"""The shop's tables, one module per concept. Importing this package registers them all."""

from shop.models.accounts import Address, LoginSession, Practice, Profession, Role, User
from shop.models.catalogue import (
    Brand,
    Category,
    Ingredient,
    Product,
    RegulatoryStatus,
    TreatmentArea,
    Variant,
)
from shop.models.mail import OutboxMessage
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
    "Category",
    "Ingredient",
    "LicenceApplication",
    "LicenceDocument",
    "LoginSession",
    "OutboxMessage",
    "Practice",
    "Product",
    "Profession",
    "RegulatoryStatus",
    "Role",
    "TreatmentArea",
    "User",
    "Variant",
]
