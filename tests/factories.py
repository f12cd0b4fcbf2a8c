"""Factories that create records through the shop's own services, as a person would."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from io import BytesIO

from werkzeug.datastructures import FileStorage

from shop import clock
from shop.accounts import registration
from shop.accounts import users as accounts
from shop.accounts.models import Profession, Role, User
from shop.accounts.users import PracticeDetails
from shop.catalogue.models import Brand, Category, Product, RegulatoryCategory, RegulatoryStatus, Variant
from shop.demo.seed import sample_licence_pdf, seed_catalogue
from shop.extensions import db

PASSWORD = "Velvet-harbour-lantern-42"
_counter = itertools.count(1)

PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
EXE_BYTES = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode."
)
ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 100
APPLICANT_EMAIL = "niamh.walsh@clinic.example"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}@clinic.example"


def pdf_bytes(holder: str = "Test Holder", number: str = "LIC-1") -> bytes:
    return sample_licence_pdf(holder, number)


def upload(data: bytes | None = None, filename: str = "licence.pdf") -> FileStorage:
    return FileStorage(BytesIO(pdf_bytes() if data is None else data), filename=filename)


def application_data(**overrides) -> registration.Application:
    practice = overrides.pop("practice", None) or PracticeDetails(
        name="Harbour Skin Clinic",
        phone="+353 21 555 0101",
        line1="4 South Mall",
        city="Cork",
        region="Co. Cork",
        postcode="T12 X1Y2",
        country="IE",
    )
    values = {
        "email": unique_email("applicant"),
        "password": PASSWORD,
        "full_name": "Dr Niamh Walsh",
        "profession": Profession.PHYSICIAN,
        "licence_number": "MCI-402211",
        "licence_region": "Medical Council of Ireland",
        "licence_expiry": clock.today() + timedelta(days=365),
        "practice": practice,
    }
    values.update(overrides)
    return registration.Application(**values)


def registration_form(**overrides) -> dict:
    """Every contract field of a complete, acceptable application as a browser posts it to
    /register; `overrides` replace values, and a None override leaves the field out."""
    values = {
        "email": APPLICANT_EMAIL,
        "password": PASSWORD,
        "full_name": "Dr Niamh Walsh",
        "profession": "physician",
        "licence_number": "MCI-402211",
        "licence_region": "Medical Council of Ireland",
        "licence_expiry": (clock.today() + timedelta(days=365)).isoformat(),
        "practice_name": "Harbour Skin Clinic",
        "phone": "+353 21 555 0101",
        "address_line1": "4 South Mall",
        "address_line2": "Second floor",
        "city": "Cork",
        "region": "Co. Cork",
        "postcode": "T12 X1Y2",
        "country": "IE",
        "licence_document": (BytesIO(pdf_bytes("Dr Niamh Walsh", "MCI-402211")), "licence.pdf"),
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def make_applicant(document: FileStorage | None = None, **overrides) -> User:
    """A clinician whose application waits for review."""
    return registration.register_clinician(application_data(**overrides), document or upload())


def make_clinician(
    *,
    email: str | None = None,
    password: str = PASSWORD,
    full_name: str = "Dr Ana Ruiz",
    licence_expiry: date | None = None,
) -> User:
    """A verified clinician with a practice and a delivery address."""
    return accounts.create_user(
        email=email or unique_email("clinician"),
        password=password,
        role=Role.CLINICIAN,
        full_name=full_name,
        verified=True,
        licence_expiry=licence_expiry,
    )


def make_staff(
    *, role: Role = Role.STAFF, email: str | None = None, password: str = PASSWORD, full_name: str = "Jordan Lee"
) -> User:
    return accounts.create_user(
        email=email or unique_email(role.value), password=password, role=role, full_name=full_name
    )


def make_catalogue() -> None:
    """The full demo catalogue."""
    seed_catalogue()


def make_product(
    *,
    name: str = "Test Booster",
    slug: str | None = None,
    sku: str | None = None,
    price_cents: int = 10000,
    stock: int = 20,
    lidocaine: bool = False,
    market: str = "EU",
    sale_permitted: bool = True,
    description: str = "A test product.",
) -> Product:
    category = db.session.scalar(db.select(Category).where(Category.slug == "skin-boosters")) or Category(
        slug="skin-boosters", name="Skin boosters"
    )
    brand = db.session.scalar(db.select(Brand).where(Brand.slug == "testbrand")) or Brand(
        slug="testbrand", name="Testbrand"
    )
    n = next(_counter)
    product = Product(
        slug=slug or f"test-product-{n}",
        name=name,
        brand=brand,
        category=category,
        summary=description,
        description=description,
        created_at=clock.now(),
    )
    product.variants.append(
        Variant(
            sku=sku or f"TST-{n}",
            label=name,
            pack_size="1 x 1 mL",
            contains_lidocaine=lidocaine,
            price_cents=price_cents,
            stock_on_hand=stock,
        )
    )
    product.regulatory_statuses.append(
        RegulatoryStatus(market=market, category=RegulatoryCategory.CE_MARKED, sale_permitted=sale_permitted)
    )
    db.session.add(product)
    db.session.commit()
    return product
