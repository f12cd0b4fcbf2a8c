"""Loading the demo data: the catalogue in `shop.demo.catalogue`, a demo admin and staff
member, a verified clinician and one application waiting for review. Safe to run again:
what exists is left as it is."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from shop import clock
from shop.accounts import registration
from shop.accounts import users as accounts
from shop.accounts.models import Profession, Role, User
from shop.catalogue import images
from shop.catalogue.models import (
    Brand,
    Category,
    Ingredient,
    PriceBreak,
    Product,
    RegulatoryCategory,
    RegulatoryStatus,
    TreatmentArea,
    Variant,
)
from shop.demo.catalogue import AREAS, BRANDS, CATEGORIES, INGREDIENTS, PRODUCTS
from shop.demo.lots import seed_lots
from shop.demo.pack_images import pack_image
from shop.extensions import db
from shop.practices.models import PracticeRole
from shop.practices.practices import PracticeDetails

ADMIN = ("admin@meridian-demo.example", "Meridian-admin-2026", "Alex Morgan")
STAFF = ("desk@meridian-demo.example", "Meridian-desk-2026", "Jordan Lee")
CLINICIAN = ("dr.ruiz@harbour-clinic.example", "Harbour-clinic-2026", "Dr Ana Ruiz")
COLLEAGUE = ("liam.walsh@harbour-clinic.example", "Harbour-nurse-2026", "Liam Walsh RN")
APPLICANT = ("sam.patel@northside-skin.example", "Northside-skin-2026", "Sam Patel")


def seed() -> list[tuple[str, str, str, str]]:
    """Load everything that is missing; returns the demo logins (role, email, password, note)."""
    seed_catalogue()
    seed_images()
    seed_lots()
    _ensure_user(*ADMIN, Role.ADMIN)
    _ensure_user(*STAFF, Role.STAFF)
    if _ensure_user(*CLINICIAN, Role.CLINICIAN, verified=True):
        clinician = _existing(CLINICIAN[0])
        clinician.practice.name = "Harbour Aesthetics Clinic"
        clinician.practice.on_account = True
        clinician.practice.credit_limit_cents = 500_000
        db.session.commit()
    _ensure_colleague()
    _ensure_applicant()
    return [
        ("admin", ADMIN[0], ADMIN[1], "back office, can add staff; sets up an authenticator app at first login"),
        ("staff (verification desk)", STAFF[0], STAFF[1], "back office; sets up an authenticator app at first login"),
        ("verified clinician", CLINICIAN[0], CLINICIAN[1], "owner of Harbour Aesthetics Clinic, orders on account"),
        ("colleague (buyer)", COLLEAGUE[0], COLLEAGUE[1], "a registered nurse of the same practice"),
        ("pending applicant", APPLICANT[0], APPLICANT[1], "waits for review"),
    ]


def _by_slug(model, slug: str):
    return db.session.scalar(select(model).where(model.slug == slug))


def seed_catalogue() -> None:
    for position, (slug, name, description) in enumerate(CATEGORIES):
        if _by_slug(Category, slug) is None:
            db.session.add(Category(slug=slug, name=name, description=description, position=position))
    for slug, name, manufacturer in BRANDS:
        if _by_slug(Brand, slug) is None:
            db.session.add(Brand(slug=slug, name=name, manufacturer=manufacturer))
    for slug, name in INGREDIENTS:
        if _by_slug(Ingredient, slug) is None:
            db.session.add(Ingredient(slug=slug, name=name))
    for position, (slug, name) in enumerate(AREAS):
        if _by_slug(TreatmentArea, slug) is None:
            db.session.add(TreatmentArea(slug=slug, name=name, position=position))
    db.session.flush()
    now = clock.now()
    for index, data in enumerate(PRODUCTS):
        if _by_slug(Product, data["slug"]) is None:
            _add_product(data, created_at=now - timedelta(days=len(PRODUCTS) - index))
    db.session.commit()


def seed_images() -> None:
    """A drawn carton for each demo product that has no image yet."""
    for data in PRODUCTS:
        product = _by_slug(Product, data["slug"])
        if product is not None and not product.images:
            images.add_image(None, product, pack_image(product), f"{product.slug}.png")


def _add_product(data: dict, created_at) -> None:
    product = Product(
        slug=data["slug"],
        name=data["name"],
        brand=_by_slug(Brand, data["brand"]),
        category=_by_slug(Category, data["category"]),
        summary=data["summary"],
        description=data["description"],
        composition=data["composition"],
        technique=data["technique"],
        contraindications=data["contraindications"],
        prescription_only=data["prescription_only"],
        created_at=created_at,
    )
    product.ingredients = [_by_slug(Ingredient, slug) for slug in data["ingredients"]]
    product.treatment_areas = [_by_slug(TreatmentArea, slug) for slug in data["areas"]]
    for position, (sku, label, pack, lidocaine, price, stock) in enumerate(data["variants"]):
        product.variants.append(
            Variant(
                sku=sku,
                label=label,
                pack_size=pack,
                contains_lidocaine=lidocaine,
                price_cents=price,
                stock_on_hand=stock,
                position=position,
                price_breaks=volume_breaks(price),
            )
        )
    for market, category, note, permitted in data["statuses"]:
        product.regulatory_statuses.append(
            RegulatoryStatus(market=market, category=RegulatoryCategory(category), note=note, sale_permitted=permitted)
        )
    db.session.add(product)


def volume_breaks(price_cents: int) -> list[PriceBreak]:
    """The distributor's usual volume terms: 5% off from 5 packs, 10% off from 10, to the 50 cents."""
    if price_cents >= 100_000:
        return []
    return [
        PriceBreak(min_quantity=quantity, unit_price_cents=round(price_cents * (100 - off) / 100 / 50) * 50)
        for quantity, off in ((5, 5), (10, 10))
    ]


def _existing(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _ensure_user(email: str, password: str, name: str, role: Role, verified: bool = False) -> bool:
    """Create the account unless it exists; True when it was created now."""
    if _existing(email) is not None:
        return False
    accounts.create_user(email=email, password=password, role=role, full_name=name, verified=verified)
    return True


def _ensure_colleague() -> None:
    """A registered nurse who orders for the demo clinician's practice as a buyer."""
    if not _ensure_user(*COLLEAGUE, Role.CLINICIAN, verified=True):
        return
    colleague, owner = _existing(COLLEAGUE[0]), _existing(CLINICIAN[0])
    own_practice = colleague.practice
    colleague.practice, colleague.practice_role = owner.practice, PracticeRole.BUYER
    colleague.application.profession = Profession.REGISTERED_NURSE
    colleague.application.licence_region = "Nursing and Midwifery Board of Ireland"
    db.session.flush()
    db.session.delete(own_practice)
    db.session.commit()


def _ensure_applicant() -> None:
    if _existing(APPLICANT[0]) is not None:
        return
    email, password, name = APPLICANT
    applicant = registration.register_clinician(
        registration.Application(
            email=email,
            password=password,
            full_name=name,
            profession=Profession.REGISTERED_NURSE,
            licence_number="RN-4471920",
            licence_region="Nursing and Midwifery Board of Ireland",
            licence_expiry=clock.today() + timedelta(days=400),
            practice=PracticeDetails(
                name="Northside Skin Studio",
                phone="+353 1 555 0182",
                line1="88 Drumcondra Road Upper",
                city="Dublin",
                region="Co. Dublin",
                postcode="D09 X2Y3",
                country="IE",
            ),
        ),
        FileStorage(BytesIO(sample_licence_pdf(name, "RN-4471920")), filename="licence-scan.pdf"),
    )
    registration.confirm(applicant)  # as if the applicant opened the emailed link


def sample_licence_pdf(holder: str, number: str) -> bytes:
    """A one-page PDF that reads like a licence card, for demo and test applications."""
    text = f"BT /F1 18 Tf 72 720 Td (Professional licence) Tj 0 -28 Td /F1 12 Tf ({holder}) Tj 0 -18 Td (Licence {number}) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode("latin-1", "replace")),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number_, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number_, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()
