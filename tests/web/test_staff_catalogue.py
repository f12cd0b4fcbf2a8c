"""The catalogue desk: the product list with its search and filters, a product from draft to
on sale to retired, its clearances, its variants with SKU, GTIN and volume prices, the history
of every change, and who may do any of it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop.access import Desk
from shop.catalogue.models import Brand, Category, Product, ProductStatus, Variant
from shop.core.audit import AuditEntry
from shop.extensions import db
from tests.factories import (
    clinician_with_cart,
    make_clinician,
    make_product,
    make_staff,
    make_variant,
    option,
    place_order,
)
from tests.helpers import change, field_error, flashes, redirect_path, reload, statements_during, text


@pytest.fixture
def desk(signed_in):
    return signed_in(make_staff(full_name="Casey Moreau", desks=[Desk.CATALOGUE]))


def _ids():
    brand = db.session.scalar(select(Brand).where(Brand.slug == "acme")) or Brand(slug="acme", name="Acme Aesthetics")
    category = db.session.scalar(select(Category).where(Category.slug == "skin-boosters")) or Category(
        slug="skin-boosters", name="Skin boosters"
    )
    db.session.add_all([brand, category])
    db.session.commit()
    return brand.id, category.id


def product_form(**fields) -> dict:
    brand_id, category_id = _ids()
    form = {
        "name": "Hydra Glow",
        "brand_id": str(brand_id),
        "category_id": str(category_id),
        "summary": "A light booster.",
        "description": "Hyaluronic acid for fine lines.",
        "composition": "Hyaluronic acid 20 mg/mL",
        "technique": "Micro-papules, 30G needle.",
        "contraindications": "Pregnancy.",
        "us_category": "fda_approved",
        "us_note": "Approved for fine lines of the cheeks.",
        "us_sale_permitted": "y",
        "eu_category": "ce_marked",
        "eu_note": "",
        "uk_category": "",
        "uk_note": "",
    }
    form.update(fields)
    return {name: value for name, value in form.items() if value is not None}


def variant_form(**fields) -> dict:
    form = {
        "sku": "hg-1",
        "gtin": "4006381333931",
        "label": "1 x 1 mL",
        "pack_size": "1 x 1 mL syringe",
        "price": "120.00",
        "reorder_level": "5",
        "active": "y",
        "breaks-0-min_quantity": "5",
        "breaks-0-unit_price": "110.00",
        "breaks-1-min_quantity": "10",
        "breaks-1-unit_price": "100.00",
    }
    form.update(fields)
    return {name: value for name, value in form.items() if value is not None}


def _created(desk, **fields) -> Product:
    response = desk.post("/staff/catalogue/new", product_form(**fields))
    assert response.status_code == 303, text(response)
    return db.session.scalar(select(Product).where(Product.name == (fields.get("name") or "Hydra Glow")))


def test_a_new_product_is_a_draft_nobody_sees_until_it_has_a_variant_and_is_put_on_sale(desk, signed_in):
    clinician = signed_in(make_clinician())
    product = _created(desk)
    assert product.status == ProductStatus.DRAFT
    assert clinician.get(f"/catalogue/{product.slug}").status_code == 404

    refused = desk.post(f"/staff/catalogue/{product.id}/status", {"status": "active"})
    assert ("error", "Add an active variant before putting the product on sale.") in flashes(
        desk.get(redirect_path(refused))
    )

    added = desk.post(f"/staff/catalogue/{product.id}/variants/new", variant_form())
    assert added.status_code == 303
    variant = db.session.scalar(select(Variant).where(Variant.product_id == product.id))
    assert (variant.sku, variant.gtin, variant.price_cents, variant.reorder_level, variant.stock_on_hand) == (
        "HG-1",
        "04006381333931",
        12_000,
        5,
        0,
    )
    assert [(b.min_quantity, b.unit_price_cents) for b in variant.price_breaks] == [(5, 11_000), (10, 10_000)]

    desk.post(f"/staff/catalogue/{product.id}/status", {"status": "active"})
    assert reload(Product, product.id).status == ProductStatus.ACTIVE
    page = text(clinician.get(f"/catalogue/{product.slug}"))
    for expected in ("Hydra Glow", "HG-1", "$120.00", "5+: $110.00", "Approved for fine lines of the cheeks."):
        assert expected in page, expected


def test_every_field_the_catalogue_shows_is_saved_and_each_change_is_in_the_history(desk):
    product = _created(desk)
    page = desk.get(f"/staff/catalogue/{product.id}")
    assert 'value="Hydra Glow"' in page.get_data(as_text=True)

    response = desk.post(
        f"/staff/catalogue/{product.id}",
        product_form(name="Hydra Glow Plus", contraindications="Pregnancy; active infection.", prescription_only="y"),
    )
    assert response.status_code == 303
    saved = reload(Product, product.id)
    assert (saved.name, saved.contraindications, saved.prescription_only) == (
        "Hydra Glow Plus",
        "Pregnancy; active infection.",
        True,
    )
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "product.updated", AuditEntry.object_id == str(product.id))
    ).one()
    assert entry.changes["name"] == ["Hydra Glow", "Hydra Glow Plus"]
    assert entry.changes["prescription_only"] == [False, True]
    assert entry.actor_email == desk_email(entry)
    history = text(desk.get(f"/staff/catalogue/{product.id}"))
    assert "product.updated" in history and "name: Hydra Glow → Hydra Glow Plus" in history
    assert "product.created" in history


def desk_email(entry: AuditEntry) -> str:
    return entry.actor.email


def test_a_product_is_cleared_for_sale_only_where_it_is_approved(desk):
    response = desk.post("/staff/catalogue/new", product_form(us_category="not_approved", us_sale_permitted="y"))
    assert response.status_code == 422
    assert "Only an FDA-approved or CE-marked product can be cleared for sale" in field_error(
        response, "us_sale_permitted"
    )
    assert db.session.scalar(select(Product).where(Product.name == "Hydra Glow")) is None
    assert 'value="Hydra Glow"' in response.get_data(as_text=True)  # nothing typed is lost


def test_a_retired_product_leaves_the_catalogue_but_stays_on_old_orders(desk, signed_in):
    variant = make_variant("RET-1", name="Old Booster", price_cents=5_000)
    user = clinician_with_cart(("RET-1", 1))
    number = place_order(user).number
    clinician = signed_in(user)

    desk.post(f"/staff/catalogue/{variant.product_id}/status", {"status": "retired"})

    assert reload(Product, variant.product_id).status == ProductStatus.RETIRED
    assert "Old Booster" not in text(clinician.get("/catalogue"))
    order_page = text(clinician.get(f"/orders/{number}"))
    assert "Old Booster" in order_page and "No longer sold" in order_page
    orders_desk = signed_in(make_staff(desks=[Desk.ORDERS]))
    assert "No longer sold" in text(orders_desk.get(f"/staff/orders/{number}"))
    added = clinician.post("/cart/add", {"sku": "RET-1", "quantity": "1"})
    assert "is no longer sold" in text(clinician.get(redirect_path(added) or "/cart"))
    desk.post(f"/staff/catalogue/{variant.product_id}/status", {"status": "active"})
    assert "Old Booster" in text(clinician.get("/catalogue"))


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"gtin": "4006381333932"}, "gtin", "Not a valid GTIN"),
        ({"gtin": "12345"}, "gtin", "Not a valid GTIN"),
        ({"sku": "bad sku!"}, "sku", "Use letters, digits"),
        ({"sku": ""}, "sku", "Enter the SKU."),
        ({"price": "-1"}, "price", "Between 0 and 10,000,000."),
        ({"price": "lots"}, "price", "Not a valid decimal value."),
        ({"reorder_level": "-3"}, "reorder_level", "Between 0 and 100,000."),
        ({"breaks-1-min_quantity": "4"}, "breaks", "rising quantity"),
        ({"breaks-1-unit_price": "115.00"}, "breaks", "must be lower than the price before it"),
        ({"breaks-0-unit_price": "130.00"}, "breaks", "must be lower than the price before it"),
        ({"breaks-0-min_quantity": "1"}, "breaks-0-min_quantity", "Number must be between 2 and 999."),
        ({"breaks-0-unit_price": ""}, "breaks-0-unit_price", "Give both the quantity and its price"),
    ],
)
def test_a_variant_that_does_not_add_up_is_refused_next_to_its_field(desk, fields, field, message):
    product = _created(desk)
    response = desk.post(f"/staff/catalogue/{product.id}/variants/new", variant_form(**fields))
    assert response.status_code == 422
    shown = field_error(response, field) if field != "breaks" else text(response)
    assert message in shown, text(response)
    assert db.session.scalar(select(Variant).where(Variant.product_id == product.id)) is None


def test_skus_are_unique_in_any_case_and_gtins_in_any_length(desk):
    make_variant("HG-1", name="Taken")
    product = _created(desk)
    response = desk.post(f"/staff/catalogue/{product.id}/variants/new", variant_form(sku="hg-1"))
    assert response.status_code == 422
    assert "SKU HG-1 is taken by Taken." in field_error(response, "sku")

    assert desk.post(f"/staff/catalogue/{product.id}/variants/new", variant_form(sku="HG-2")).status_code == 303
    again = desk.post(f"/staff/catalogue/{product.id}/variants/new", variant_form(sku="HG-3", gtin="04006381333931"))
    assert "This GTIN is taken by HG-2" in field_error(again, "gtin")


def test_a_new_price_reaches_carts_at_once_and_the_cart_says_so_while_orders_keep_theirs(desk, signed_in):
    variant = make_variant("PRC-1", price_cents=10_000)
    ordered = place_order(clinician_with_cart(("PRC-1", 1)))
    user = clinician_with_cart(("PRC-1", 2))
    edit = desk.get(f"/staff/catalogue/{variant.product_id}/variants/{variant.id}")
    assert 'value="100.00"' in edit.get_data(as_text=True)

    response = desk.post(
        f"/staff/catalogue/{variant.product_id}/variants/{variant.id}",
        variant_form(
            sku="PRC-1",
            gtin="",
            label="1 x 1 mL",
            price="125.00",
            **{
                "breaks-0-min_quantity": "",
                "breaks-0-unit_price": "",
                "breaks-1-min_quantity": "",
                "breaks-1-unit_price": "",
            },
        ),
    )

    assert response.status_code == 303
    assert reload(Variant, variant.id).price_cents == 12_500
    cart = text(signed_in(user).get("/cart"))
    assert "$125.00" in cart and "Price changed: was $100.00" in cart
    assert reload(type(ordered), ordered.id).lines[0].unit_price_cents == 10_000
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "variant.updated")).one()
    assert entry.changes["price_cents"] == [10_000, 12_500]


def test_the_list_finds_products_by_name_brand_sku_and_gtin_and_filters_them(desk):
    make_product(name="Alpha Booster", sku="ALP-1", brand="Zeta Labs", prescription_only=True)
    make_product(name="Beta Filler", sku="BET-1", stock=2)
    gone = make_product(name="Gamma Gel", sku="GAM-1", active=False)
    db.session.execute(Variant.__table__.update().where(Variant.sku == "ALP-1").values(gtin="04006381333931"))
    db.session.commit()

    def names(query: str) -> list[str]:
        shown = text(desk.get(f"/staff/catalogue?{query}"))
        return [n for n in ("Alpha Booster", "Beta Filler", "Gamma Gel") if n in shown]

    assert names("") == ["Alpha Booster", "Beta Filler", "Gamma Gel"]
    assert names("q=zeta") == ["Alpha Booster"]
    assert names("q=bet-1") == ["Beta Filler"]
    assert names("q=4006381333931") == ["Alpha Booster"]
    assert names("status=retired") == ["Gamma Gel"]
    assert names("prescription=yes") == ["Alpha Booster"]
    assert names("low_stock=1") == ["Beta Filler"]
    assert names("cleared=no") == []
    assert names(f"brand={gone.brand_id}&status=nonsense&category=x&page=abc") == ["Beta Filler", "Gamma Gel"]


def test_the_list_sends_as_many_statements_for_many_products_as_for_few(desk, app):
    make_product(name="One", sku="ONE-1")
    few = statements_during(lambda: desk.get("/staff/catalogue"))
    for n in range(12):
        make_product(
            name=f"Many {n}",
            sku=f"MNY-{n}",
            breaks=((5, 90),),
            options=[option(f"MNY-{n}-B", label="Big", price_cents=900, stock=3)],
        )
    many = statements_during(lambda: desk.get("/staff/catalogue"))
    assert many == few


def test_the_dashboard_counts_low_stock_for_the_catalogue_desk_only(desk, signed_in):
    make_variant("LOW-1", stock=3)
    make_variant("LOW-2", stock=0)
    make_variant("FULL-1", stock=500)
    board = text(desk.get("/staff"))
    assert "2 variants at or under their reorder level" in board
    low = text(desk.get("/staff/catalogue/low-stock"))
    assert low.index("LOW-2") < low.index("LOW-1") and "FULL-1" not in low

    orders_desk = signed_in(make_staff(desks=[Desk.ORDERS]))
    assert "reorder level" not in text(orders_desk.get("/staff"))
    assert orders_desk.get("/staff/catalogue").status_code == 403
    assert orders_desk.post("/staff/catalogue/new", product_form()).status_code == 403


def test_nonsense_in_the_address_or_the_form_is_a_404_or_a_message_never_a_500(desk):
    product = _created(desk)
    other = make_variant("OTH-1")
    assert desk.get("/staff/catalogue/999999").status_code == 404
    assert desk.get(f"/staff/catalogue/{product.id}/variants/{other.id}").status_code == 404
    response = desk.post(f"/staff/catalogue/{product.id}", product_form(brand_id="abc", ingredient_ids="77"))
    assert response.status_code == 422
    bad_status = desk.post(f"/staff/catalogue/{product.id}/status", {"status": "sold-out"})
    assert ("error", "Choose a status.") in flashes(desk.get(redirect_path(bad_status)))
    backwards = desk.post(f"/staff/catalogue/{product.id}/status", {"status": "draft"})
    assert any("cannot become draft" in m for _, m in flashes(desk.get(redirect_path(backwards))))


def test_a_save_over_a_colleagues_newer_change_is_refused_then_made_knowingly(desk, signed_in):
    variant = make_variant("LST-1", name="Shared Gel", price_cents=10_000)
    product_url = f"/staff/catalogue/{variant.product_id}"
    mine = desk.get(product_url).get_data(as_text=True)
    seen = re.search(r'name="seen" type="hidden" value="([0-9a-f]+)"', mine).group(1)
    colleague = signed_in(make_staff(desks=[Desk.CATALOGUE]))
    theirs = colleague.get(product_url).get_data(as_text=True)
    their_seen = re.search(r'name="seen" type="hidden" value="([0-9a-f]+)"', theirs).group(1)
    fields = product_form(name="Shared Gel", category_id=str(reload(Product, variant.product_id).category_id))
    assert colleague.post(product_url, {**fields, "prescription_only": "y", "seen": their_seen}).status_code == 303

    refused = desk.post(product_url, {**fields, "contraindications": "Pregnancy; allergy.", "seen": seen})

    assert refused.status_code == 422
    assert "Someone saved this product while you were editing it" in text(refused)
    saved = reload(Product, variant.product_id)
    assert saved.prescription_only is True and saved.contraindications == "Pregnancy."
    fresh = re.search(r'name="seen" type="hidden" value="([0-9a-f]+)"', refused.get_data(as_text=True)).group(1)
    again = desk.post(product_url, {**fields, "contraindications": "Pregnancy; allergy.", "seen": fresh})
    assert again.status_code == 303
    assert reload(Product, variant.product_id).contraindications == "Pregnancy; allergy."

    variant_url = f"{product_url}/variants/{variant.id}"
    old = re.search(r'name="seen" type="hidden" value="([0-9a-f]+)"', desk.get(variant_url).get_data(as_text=True))
    change(variant, price_cents=11_000)
    stale = desk.post(variant_url, variant_form(sku="LST-1", gtin="", price="130.00", seen=old.group(1)))
    assert stale.status_code == 422 and "Someone saved this variant" in text(stale)
    assert reload(Variant, variant.id).price_cents == 11_000
