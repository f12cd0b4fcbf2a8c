"""Factories that create records through the shop's own services, as a person would: people
(applicants, verified clinicians, colleagues in one practice, practices on account, staff), the
catalogue (products and their variants with volume prices), filled carts and placed orders
(on account, or by card through the checkout page), quote requests, quotes the desk has priced
and sent, and accepted quotes.

A factory takes the attributes a test needs as keyword arguments, so a test never creates a
record and then edits it to set the scene; an edit a test makes afterwards is its scenario."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from io import BytesIO

import pyotp
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from shop import clock
from shop.access import Desk
from shop.accounts import registration
from shop.accounts import users as accounts
from shop.accounts.models import Profession, Role, SecondFactor, User
from shop.cart import services as carts
from shop.catalogue.models import (
    Brand,
    Category,
    PriceBreak,
    Product,
    ProductStatus,
    RegulatoryCategory,
    RegulatoryStatus,
    Variant,
)
from shop.demo.seed import sample_licence_pdf, seed_catalogue
from shop.extensions import db
from shop.lots.models import Lot, LotStatus
from shop.ordering import checkout, orders
from shop.ordering.models import Order, PaymentMethod
from shop.practices.models import Address, PracticeRole
from shop.practices.practices import PracticeDetails
from shop.quoting import acceptance as quote_orders
from shop.quoting import builder as quote_builder
from shop.quoting import quotes
from shop.quoting.builder import DraftEdit, LineEdit
from shop.quoting.models import Quote, QuoteVersion
from shop.quoting.quotes import RequestedItem
from shop.shipping import packing
from tests.helpers import WebClient, allow_account, post_checkout, reload

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

CARD_PRICE = 12_500  # cents a box, in a card order
CARD_STOCK = 10  # boxes in stock before a card order


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}@clinic.example"


# --- applications -----------------------------------------------------------------------------


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


def make_applicant(document: FileStorage | None = None, *, confirmed: bool = True, **overrides) -> User:
    """A clinician whose application waits for review: the address confirmed from the emailed
    link, unless `confirmed=False`."""
    user = registration.register_clinician(application_data(**overrides), document or upload())
    if confirmed:
        registration.confirm(user)
    return user


# --- people -----------------------------------------------------------------------------------


def make_clinician(
    *,
    email: str | None = None,
    password: str = PASSWORD,
    full_name: str = "Dr Ana Ruiz",
    licence_expiry: date | None = None,
    profession: Profession = Profession.PHYSICIAN,
    licence_number: str | None = None,
    practice_name: str | None = None,
    address_line1: str | None = None,
    practice_of: User | None = None,
    practice_role: PracticeRole = PracticeRole.BUYER,
    on_account: bool = False,
    credit_limit_cents: int | None = None,
    payment_terms_days: int | None = None,
) -> User:
    """A verified clinician with a practice and a delivery address (12 Grand Parade, Cork).

    `profession` and `licence_number` are those of the approved licence; `practice_name` and
    `address_line1` rename the practice and its address; `practice_of` makes the clinician a
    colleague in another clinician's practice instead (sharing its addresses and its terms), a
    buyer there unless `practice_role` says otherwise (the first clinician is its owner);
    `on_account` lets the practice pay on account, up to `credit_limit_cents` (100,000.00
    unless given) within `payment_terms_days` (30 unless given)."""
    if (credit_limit_cents is not None or payment_terms_days is not None) and not on_account:
        raise TypeError("a credit limit or payment terms are for a practice on account: pass on_account=True")
    if practice_of is not None and on_account:
        raise TypeError("a colleague shares the terms of the practice it joins; set them on its first clinician")
    user = accounts.create_user(
        email=email or unique_email("clinician"),
        password=password,
        role=Role.CLINICIAN,
        full_name=full_name,
        verified=True,
        licence_expiry=licence_expiry,
    )
    user.application.profession = profession
    if licence_number is not None:
        user.application.licence_number = licence_number
    if practice_name is not None:
        user.practice.name = practice_name
    if address_line1 is not None:
        user.practice.default_address.line1 = address_line1
    if practice_of is not None:
        user.practice = practice_of.practice
        user.practice_role = practice_role
    db.session.commit()
    if on_account:
        allow_account(
            user,
            credit_limit_cents=10_000_000 if credit_limit_cents is None else credit_limit_cents,
            payment_terms_days=30 if payment_terms_days is None else payment_terms_days,
        )
    return user


def make_staff(
    *,
    role: Role = Role.STAFF,
    email: str | None = None,
    password: str = PASSWORD,
    full_name: str = "Jordan Lee",
    second_factor: bool = True,
    desks: Iterable[Desk] | None = None,
) -> User:
    """A staff member (or admin) who has set up an authenticator, unless `second_factor=False`
    (as an account the command line just created: it sets one up at its first login). Staff
    work every desk of the daily work (as the command line gives them), or `desks`."""
    user = accounts.create_user(
        email=email or unique_email(role.value), password=password, role=role, full_name=full_name
    )
    if desks is not None:
        user.desks = desks
        db.session.commit()
    if second_factor:
        give_second_factor(user)
    return user


def give_second_factor(user: User) -> SecondFactor:
    """An authenticator in use for `user` (without the recovery codes or the email of setting
    one up in the browser); tests.helpers.login_code reads its codes."""
    now = clock.now()
    factor = SecondFactor(user_id=user.id, secret=pyotp.random_base32(), created_at=now, confirmed_at=now)
    db.session.add(factor)
    db.session.commit()
    return factor


def add_address(user: User, line1: str, line2: str = "", *, city: str = "Cork", postcode: str = "T12 PX00") -> Address:
    """Another delivery address of the user's practice."""
    address = Address(line1=line1, line2=line2, city=city, region="Co. Cork", postcode=postcode, country="IE")
    user.practice.addresses.append(address)
    db.session.commit()
    return address


# --- the catalogue ------------------------------------------------------------------------------


def make_catalogue() -> None:
    """The full demo catalogue."""
    seed_catalogue()


def option(
    sku: str,
    *,
    label: str,
    price_cents: int,
    stock: int = 0,
    lidocaine: bool = False,
    active: bool = True,
    position: int = 0,
    pack_size: str = "1",
) -> Variant:
    """A further option (variant) of a product, for `make_product(options=...)`."""
    return Variant(
        sku=sku,
        label=label,
        pack_size=pack_size,
        contains_lidocaine=lidocaine,
        price_cents=price_cents,
        stock_on_hand=stock,
        active=active,
        position=position,
    )


def make_product(
    *,
    name: str | None = None,
    slug: str | None = None,
    sku: str | None = None,
    price_cents: int = 10_000,
    stock: int = 20,
    breaks: Sequence[tuple[int, int]] = (),
    lidocaine: bool = False,
    market: str = "EU",
    sale_permitted: bool = True,
    prescription_only: bool = False,
    active: bool = True,
    discontinued: bool = False,
    brand: str = "Testbrand",
    created_at: datetime | None = None,
    options: Sequence[Variant] = (),
    description: str = "A test product.",
    lots: bool = True,
) -> Product:
    """A product of the skin-boosters category with one variant: `sku` (TST-n unless given) at
    `price_cents` a pack with volume `breaks` ((from quantity, unit price)...) and `stock` packs
    in stock, named "Booster <sku>" unless `name` says otherwise, cleared for sale in `market`
    as `sale_permitted` says. `prescription_only` products are for prescribers; an inactive
    (`active=False`) product is withdrawn altogether, a `discontinued` variant is no longer sold.
    `options` (made with `option()`) are further variants. Its stock is on the shelf in one lot
    per variant expiring in two years (none with `lots=False`)."""
    category = db.session.scalar(select(Category).where(Category.slug == "skin-boosters")) or Category(
        slug="skin-boosters", name="Skin boosters"
    )
    brand_slug = re.sub(r"[^a-z0-9]+", "-", brand.lower()).strip("-")
    maker = db.session.scalar(select(Brand).where(Brand.slug == brand_slug)) or Brand(slug=brand_slug, name=brand)
    n = next(_counter)
    sku = sku or f"TST-{n}"
    name = name or f"Booster {sku}"
    product = Product(
        slug=slug or f"test-product-{n}",
        name=name,
        brand=maker,
        category=category,
        summary=description,
        description=description,
        prescription_only=prescription_only,
        status=ProductStatus.ACTIVE if active else ProductStatus.RETIRED,
        created_at=created_at or clock.now(),
    )
    first = option(
        sku,
        label=name,
        price_cents=price_cents,
        stock=stock,
        lidocaine=lidocaine,
        active=not discontinued,
        pack_size="1 x 1 mL",
    )
    first.price_breaks = [PriceBreak(min_quantity=minimum, unit_price_cents=price) for minimum, price in breaks]
    product.variants.append(first)
    product.variants.extend(options)
    product.regulatory_statuses.append(
        RegulatoryStatus(market=market, category=RegulatoryCategory.CE_MARKED, sale_permitted=sale_permitted)
    )
    db.session.add(product)
    db.session.commit()
    if lots:
        for variant in product.variants:
            if variant.stock_on_hand > 0:
                make_lot(variant, f"{variant.sku[:15]}-L1", on_hand=variant.stock_on_hand, counted=True)
    return product


def make_lot(
    variant: Variant,
    lot_number: str,
    *,
    on_hand: int,
    expires_on: date | None = None,
    status: LotStatus = LotStatus.AVAILABLE,
    counted: bool = False,
) -> Lot:
    """A lot of `variant` with `on_hand` packs on the shelf, expiring in two years unless told.
    Unless `counted` (already in the variant's stock), its packs are added to the stock."""
    lot = Lot(
        variant_id=variant.id,
        lot_number=lot_number.upper(),
        expires_on=expires_on or clock.today() + timedelta(days=730),
        status=status,
        on_hand=on_hand,
        received=on_hand,
        created_at=clock.now(),
    )
    db.session.add(lot)
    if not counted and status == LotStatus.AVAILABLE:
        variant.stock_on_hand += on_hand
    db.session.commit()
    return lot


def ship_order(order: Order, staff: User, carrier: str = "DHL", tracking_number: str = "JD1"):
    """The orders desk packs the whole order in one parcel from the lots it is offered (first
    expiry first) and records it."""
    plan = packing.suggest(order)
    picks = tuple(
        packing.Pick(order_line_id=line_id, lot=lot.lot_number, quantity=packs)
        for line_id, taken in plan.items()
        for lot, packs in taken
    )
    return packing.ship(staff, order, packing.Parcel(carrier, tracking_number, picks))


def make_variant(sku: str | None = None, **product) -> Variant:
    """The variant of a new product (see `make_product` for what it takes)."""
    return make_product(sku=sku, **product).variants[0]


def variant_with_breaks(price_cents: int = 10_000, stock: int = 50, **product) -> Variant:
    """A variant sold at `price_cents` for 1-4 packs, 95% of it for 5-9 and 90% from 10."""
    breaks = ((5, price_cents * 95 // 100), (10, price_cents * 90 // 100))
    return make_variant(price_cents=price_cents, stock=stock, breaks=breaks, **product)


# --- carts and orders ---------------------------------------------------------------------------


def fill_cart(user: User, *lines: tuple[str, int]) -> None:
    """The user puts (SKU, quantity) lines in the cart."""
    for sku, quantity in lines:
        carts.add_to_cart(user, sku, quantity)


def clinician_with_cart(*lines: tuple[str, int], on_account: bool = True, **clinician) -> User:
    """A verified clinician (see `make_clinician`), on account unless told otherwise, with
    (SKU, quantity) lines in the cart."""
    user = make_clinician(on_account=on_account, **clinician)
    fill_cart(user, *lines)
    return user


def place_order(
    user: User,
    *,
    method: PaymentMethod = PaymentMethod.ACCOUNT,
    address: Address | None = None,
    po_number: str = "",
    note: str = "",
    expected_total_cents: int | None = None,
) -> Order:
    """Check the cart out through the service, at the total the checkout page would show."""
    if expected_total_cents is None:
        expected_total_cents = carts.view_cart(user).totals.total_cents
    address_id = address.id if address is not None else user.practice.default_address.id
    placed = checkout.place_order(
        user,
        checkout.CheckoutRequest(
            address_id=address_id,
            payment_method=method,
            expected_total_cents=expected_total_cents,
            po_number=po_number,
            note=note,
        ),
    )
    return db.session.get(Order, placed.id)


FINANCE_DESKS = frozenset({Desk.FINANCE, Desk.ORDERS, Desk.CUSTOMERS})


def make_finance_clerk(**staff) -> User:
    """A member of staff on the finance desk (and the orders and customers desks)."""
    return make_staff(desks=staff.pop("desks", FINANCE_DESKS), **staff)


def invoiced_order(
    clinician: User | None = None,
    *,
    lines: Sequence[tuple[str, int]] = (("INV-1", 2),),
    price_cents: int = 10_000,
    staff: User | None = None,
    po_number: str = "",
    **clinician_attrs,
) -> Order:
    """An order on account that the orders desk confirmed, so it has its invoice: `lines` of new
    products at `price_cents` a pack (a clinician on account unless given)."""
    for sku, _quantity in lines:
        if db.session.scalar(select(Variant).where(Variant.sku == sku)) is None:
            make_variant(sku, price_cents=price_cents, stock=100)
    clinician = clinician or make_clinician(on_account=True, **clinician_attrs)
    fill_cart(clinician, *lines)
    order = place_order(clinician, po_number=po_number)
    orders.confirm(order, staff or make_staff())
    return reload(Order, order.id)


@dataclass
class CardOrder:
    """A card order placed through the checkout page, and the browser that placed it."""

    browser: WebClient
    clinician: User
    variant_id: int
    number: str
    response: object

    @property
    def order(self) -> Order:
        return reload(Order, self.number)

    def stock(self) -> int:
        return reload(Variant, self.variant_id).stock_on_hand


def place_card_order(signed_in, *, quantity: int = 2, price: int = CARD_PRICE, stock: int = CARD_STOCK) -> CardOrder:
    """A verified clinician buys `quantity` boxes of a new product by card; the checkout's
    redirect (to Stripe, or back to the order when Stripe failed) is in `response`."""
    variant = make_variant(price_cents=price, stock=stock)
    clinician = make_clinician()
    browser = signed_in(clinician)
    added = browser.post("/cart/add", {"sku": variant.sku, "quantity": str(quantity)})
    assert added.status_code == 303, added.status_code
    response = post_checkout(browser, "card")
    number = db.session.scalar(select(Order.number).where(Order.placed_by_id == clinician.id))
    assert number, f"no order was placed (checkout answered {response.status_code})"
    return CardOrder(browser, clinician, variant.id, number, response)


# --- quotes -------------------------------------------------------------------------------------


def ask(
    clinician: User,
    *products: tuple[str, int],
    others: tuple[tuple[str, int], ...] = (),
    target_date: date | None = None,
    message: str = "",
) -> Quote:
    """The clinician asks for `products` ((SKU, quantity)) and `others` ((description, quantity))."""
    items = [RequestedItem(quantity=quantity, sku=sku) for sku, quantity in products]
    items += [RequestedItem(quantity=quantity, description=text) for text, quantity in others]
    return quotes.request_quote(clinician, items, target_date=target_date, message=message)


def edit_draft(
    staff: User,
    quote: Quote,
    *,
    prices: dict[str, tuple[int | None, int]] | None = None,
    quantities: dict[str, int] | None = None,
    remove: tuple[str, ...] = (),
    shipping_cents: int | None = None,
    valid_until: date | None = None,
    terms: str | None = None,
    note: str | None = None,
) -> QuoteVersion:
    """Open (or reuse) the draft (v1 from the request, or a revision copied from the latest sent
    version) and save it with these changes, as the builder would; whatever is not given stays
    as the draft has it. `prices` maps a line's SKU (or custom name) to (unit price in cents or
    None for the list price, discount bps)."""
    version = quote_builder.open_draft(staff, reload(quote))
    prices, quantities = prices or {}, quantities or {}
    edits = []
    for line in version.lines:
        key = line.sku or line.product_name
        unit, discount = prices.get(key, (line.unit_price_cents, line.discount_bps))
        edits.append(
            LineEdit(
                line_id=line.id,
                quantity=quantities.get(key, line.quantity),
                unit_price_cents=unit,
                discount_bps=discount,
                remove=key in remove,
            )
        )
    return quote_builder.save_draft(
        staff,
        reload(quote),
        DraftEdit(
            lines=edits,
            shipping_cents=version.shipping_cents if shipping_cents is None else shipping_cents,
            valid_until=valid_until or version.valid_until,
            terms=version.terms if terms is None else terms,
            note=version.note if note is None else note,
        ),
    )


def issue(staff: User, quote: Quote, **changes) -> QuoteVersion:
    """The desk prepares the draft (with `edit_draft` changes) and sends it; returns the sent version."""
    edit_draft(staff, quote, **changes)
    return quote_builder.send_quote(staff, reload(quote))


def issued_quote(
    clinician: User, staff: User, *products: tuple[str, int], others: tuple[tuple[str, int], ...] = (), **changes
) -> Quote:
    """A quote the clinician asked for and the desk sent (custom items priced at 50.00 unless
    `prices` says otherwise)."""
    quote = ask(clinician, *products, others=others)
    prices = {text: (5_000, 0) for text, _ in others}
    prices.update(changes.pop("prices", {}))
    issue(staff, quote, prices=prices, **changes)
    return reload(quote)


@dataclass
class QuoteSetup:
    clinician: User
    staff: User
    quote: Quote
    variants: dict[str, int] = field(default_factory=dict)  # SKU -> variant id

    @property
    def number(self) -> str:
        return self.quote.number


def simple_quote(
    clinician: User | None = None,
    staff: User | None = None,
    *,
    sku: str = "VIT-Q1",
    quantity: int = 10,
    price_cents: int = 12_500,
    stock: int = 100,
    discount_bps: int = 1_000,
    valid_until: date | None = None,
) -> QuoteSetup:
    """A clinician on account with a sent v1: `quantity` boxes of one product at a discount,
    shipping 9.00."""
    clinician = clinician or make_clinician(on_account=True)
    staff = staff or make_staff()
    variant = make_variant(sku, price_cents=price_cents, stock=stock)
    quote = issued_quote(
        clinician,
        staff,
        (sku, quantity),
        prices={sku: (None, discount_bps)},
        shipping_cents=900,
        valid_until=valid_until,
    )
    return QuoteSetup(clinician, staff, quote, {sku: variant.id})


def accept_quote(
    clinician: User,
    quote: Quote | str,
    version_number: int | None = None,
    *,
    method: PaymentMethod = PaymentMethod.ACCOUNT,
    **request,
) -> Order:
    """The clinician accepts the quote (a Quote or its number; the latest sent version unless
    told) at the total it shows, to the practice's default address unless `request` says
    otherwise; returns the order."""
    quote = reload(Quote, quote) if isinstance(quote, str) else reload(quote)
    version = quote.latest_sent
    values = {
        "address_id": clinician.practice.default_address.id,
        "payment_method": method,
        "expected_total_cents": version.total_cents,
        **request,
    }
    placed = quote_orders.accept_quote(
        clinician,
        quote,
        version.number if version_number is None else version_number,
        checkout.CheckoutRequest(**values),
    )
    return db.session.get(Order, placed.id)
