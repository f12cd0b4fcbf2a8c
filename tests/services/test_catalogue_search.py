"""shop.catalogue.search: which products a filter finds and in what order, how the query
string becomes a filter, and what the demo catalogue holds."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from shop import clock
from shop.catalogue.facets import facets
from shop.catalogue.forms import filter_from_args
from shop.catalogue.lookup import product_by_slug
from shop.catalogue.models import Category, Ingredient, Product, RegulatoryCategory, TreatmentArea, Variant
from shop.catalogue.search import MAX_TERMS, CatalogueFilter, product_query, search_products
from shop.core.paging import requested_page
from shop.extensions import db
from tests.factories import make_catalogue, make_product, option


def found(**filters) -> list[str]:
    return [row.slug for row in db.session.execute(product_query(CatalogueFilter(**filters)))]


def folded(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


@pytest.fixture
def demo():
    make_catalogue()


# --- the filter object --------------------------------------------------------------------


def test_search_terms_are_lower_case_words_and_at_most_a_handful():
    assert CatalogueFilter(q="  Restylane   VITAL\tLight ").terms == ["restylane", "vital", "light"]
    assert len(CatalogueFilter(q=" ".join(f"w{i}" for i in range(50))).terms) == MAX_TERMS
    assert CatalogueFilter(q="").terms == []


@pytest.mark.parametrize(
    "changes",
    [
        {"q": "vital"},
        {"category": "x"},
        {"brand": "x"},
        {"ingredient": "x"},
        {"area": "x"},
        {"lidocaine": True},
        {"in_stock": True},
    ],
)
def test_any_search_or_filter_counts_as_filtered(changes):
    assert not CatalogueFilter().is_filtered
    assert not CatalogueFilter(q="   ", sort="price_desc").is_filtered
    assert CatalogueFilter(**changes).is_filtered


def test_the_query_string_becomes_a_filter_and_nonsense_is_dropped():
    f = filter_from_args(
        MultiDict(
            [
                ("q", " vital\x00 light\x07 "),
                ("category", "skin-boosters"),
                ("brand", "x' OR 1=1"),
                ("ingredient", "hyaluronic-acid\x00"),
                ("area", "a" * 200),
                ("lidocaine", "on"),
                ("in_stock", "maybe"),
                ("sort", "DROP"),
            ]
        )
    )
    assert f.q == "vital light"
    assert f.category == "skin-boosters"
    assert f.brand == ""
    assert f.ingredient == "hyaluronic-acid"
    assert len(f.area) <= 80
    assert f.lidocaine is True and f.in_stock is False
    assert f.sort == "name"
    assert filter_from_args(MultiDict([("sort", "price_desc"), ("sort", "brand")])).sort == "price_desc"


@pytest.mark.parametrize(
    ("raw", "page"), [("3", 3), ("abc", 1), ("-5", 1), ("0", 1), ("", 1), ("2.5", 1), ("\x00", 1), ("10" * 20, 10_000)]
)
def test_the_page_number_is_a_positive_whole_number(raw, page):
    assert requested_page(MultiDict({"page": raw})) == page
    assert requested_page(MultiDict()) == 1


# --- product_query --------------------------------------------------------------------------


def test_without_filters_every_product_on_sale_is_found_by_name(demo):
    slugs = found()
    names = [db.session.scalar(select(Product.name).where(Product.slug == s)) for s in slugs]
    assert len(slugs) == db.session.scalar(select(func.count(Product.id)))
    assert names == sorted(names)


def test_each_filter_narrows_the_products(demo):
    assert set(found(category="fat-dissolving")) == {"aqualyx", "kybella"}
    assert set(found(brand="stylage")) == {"stylage-hydro", "stylage-hydromax"}
    assert set(found(ingredient="glycerol")) == {"belotero-hydro", "saypha-rich", "pluryal-booster"}
    assert set(found(area="knees")) == {"aqualyx", "alidya"}
    assert set(found(category="mesotherapy-face", lidocaine=True)) == {"teosyal-puresense-redensity-ii"}
    assert "pluryal-booster" in found(brand="pluryal")
    assert "pluryal-booster" not in found(brand="pluryal", in_stock=True)
    assert found(category="no-such-category") == []


def test_every_search_word_must_match_somewhere(demo):
    assert found(q="pluryal") == ["pluryal-booster", "pluryal-meso-i", "pluryal-meso-ii"]
    assert found(q="pluryal sun-damaged") == ["pluryal-meso-ii"]  # name + summary
    assert found(q="cyt-502 nucleotides") == ["cytocare-502"]  # SKU + composition
    assert found(q="pluryal kybella") == []


def test_search_ignores_case_and_accents_in_names():
    make_product(name="ÉCLAT Booster", slug="eclat-booster")
    make_product(name="Plain Booster", slug="plain-booster")
    assert found(q="éclat") == ["eclat-booster"]
    assert found(q="ÉCLAT") == ["eclat-booster"]
    assert found(q="eclat") == ["eclat-booster"]


def test_signs_split_words_and_are_never_wildcards():
    make_product(name=r"Gel 50% A\B", slug="odd-name")
    make_product(name="Gel 50 AxB", slug="plain-name")
    assert found(q="50%") == ["plain-name", "odd-name"]  # the word 50, in both (by name)
    assert found(q="a\\b") == ["odd-name"]  # the words a and b
    assert found(q="a_b") == ["odd-name"]
    assert found(q="a%b") == ["odd-name"]  # not "a, anything, b"
    assert found(q="\\") == []
    assert found(q="%") == []


def test_a_product_is_found_only_through_options_still_on_sale():
    make_product(
        name="Kit",
        slug="kit",
        sku="KIT-NEW",
        options=[option("KIT-OLD", label="Old", price_cents=1, active=False, lidocaine=True)],
    )
    assert found(q="kit-new") == ["kit"]
    assert found(q="kit-old") == []
    assert found(lidocaine=True) == []


def test_inactive_products_are_never_found():
    make_product(name="Gone", slug="gone", active=False)
    assert found() == []
    assert found(q="gone") == []
    assert product_by_slug("gone") is None


def test_products_are_ordered_by_price_brand_and_age():
    now = clock.now()
    make_product(name="Zulu", slug="zulu", price_cents=500, created_at=now - timedelta(days=5))
    make_product(name="Alpha", slug="alpha", price_cents=90000, created_at=now, brand="Aardvark")
    make_product(name="Mike", slug="mike", price_cents=5000, created_at=now - timedelta(days=1))
    assert found(sort="name") == ["alpha", "mike", "zulu"]
    assert found(sort="price_asc") == ["zulu", "mike", "alpha"]
    assert found(sort="price_desc") == ["alpha", "mike", "zulu"]
    assert found(sort="brand") == ["alpha", "mike", "zulu"]
    assert found(sort="newest") == ["alpha", "mike", "zulu"]
    assert found(sort="nonsense") == ["alpha", "mike", "zulu"]


def test_equal_prices_are_ordered_by_name():
    for name in ("Charlie", "Alpha", "Bravo"):
        make_product(name=name, slug=name.lower(), price_cents=1000)
    assert found(sort="price_asc") == ["alpha", "bravo", "charlie"]
    assert found(sort="price_desc") == ["alpha", "bravo", "charlie"]


def test_paging_splits_the_results_and_a_page_past_the_end_is_empty(demo):
    total = len(found())
    first, second = search_products(CatalogueFilter(), 1, 10), search_products(CatalogueFilter(), 2, 10)
    assert first.total == total and len(first.items) == 10
    assert not {p.id for p in first.items} & {p.id for p in second.items}
    beyond = search_products(CatalogueFilter(), 99, 10)
    assert beyond.items == [] and beyond.total == total


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"category": "fat-dissolving"},
        {"brand": "stylage"},
        {"ingredient": "glycerol", "sort": "price_asc"},
        {"area": "knees", "sort": "newest"},
        {"category": "mesotherapy-face", "lidocaine": True},
        {"brand": "pluryal", "in_stock": True, "sort": "brand"},
        {"q": "pluryal", "category": "mesotherapy-face"},
        {"q": "hydro", "brand": "stylage", "sort": "price_desc"},
        {"q": "meso", "sort": "name"},
        {"q": "%"},
    ],
)
def test_every_form_of_filter_counts_what_it_finds(demo, filters):
    # A page of one product is full whenever anything is found, so the count is made (from the
    # search rows, joining the products only for a brand).
    page = search_products(CatalogueFilter(**filters), 1, 1)
    assert page.total == len(found(**filters))


def test_the_filter_panel_offers_categories_in_their_set_order(demo):
    offered = facets()
    assert [c.slug for c in offered["categories"]] == [
        "skin-boosters",
        "mesotherapy-face",
        "mesotherapy-body",
        "fat-dissolving",
        "dermal-fillers",
    ]
    assert [b.name for b in offered["brands"]] == sorted(b.name for b in offered["brands"])
    assert offered["areas"][0].slug == "face"


# --- the demo catalogue -------------------------------------------------------------------

DOMAIN_PRODUCTS = [
    "Restylane Skinboosters Vital",
    "Restylane Skinboosters Vital Light",
    "Juvederm Hydrate",
    "SKINVIVE by Juvederm",
    "Belotero Hydro",
    "Stylage Hydro",
    "Stylage Hydromax",
    "Saypha Rich",
    "Filorga M-HA 10",
    "Pluryal Booster",
    "Pluryal Meso I",
    "Pluryal Meso II",
    "Teosyal Meso",
    "Teosyal Puresense Redensity II",
    "Cytocare 502",
    "Aqualyx",
    "Kybella",
    "Alidya",
]
DOMAIN_AREAS = [
    "face", "cheeks", "eye area", "neck", "décolletage", "backs of hands", "chin",
    "abdomen", "back", "thighs", "hips", "buttocks", "knees", "arms",
]  # fmt: skip
DOMAIN_INGREDIENTS = [
    "hyaluronic acid", "lidocaine", "mannitol", "glycerol", "sorbitol", "amino acids",
    "vitamins", "minerals", "antioxidants", "deoxycholic acid",
]  # fmt: skip


@pytest.mark.parametrize("name", DOMAIN_PRODUCTS)
def test_the_demo_catalogue_has_every_product_family_with_a_priced_option(demo, name):
    products = {folded(p.name): p for p in db.session.scalars(select(Product))}
    product = products.get(folded(name))
    assert product is not None, f"{name} is missing"
    assert product.active and product.sellable_variants
    assert all(v.sku and v.price_cents > 0 for v in product.sellable_variants)
    assert product.ingredients and product.treatment_areas and product.regulatory_statuses


def test_every_demo_category_has_products(demo):
    categories = list(db.session.scalars(select(Category)))
    assert len(categories) == 5
    for category in categories:
        assert found(category=category.slug), f"{category.name} is empty"


def test_the_demo_filters_are_the_domains_areas_and_ingredients(demo):
    assert {a.name.lower() for a in db.session.scalars(select(TreatmentArea))} == set(DOMAIN_AREAS)
    assert {i.name.lower() for i in db.session.scalars(select(Ingredient))} == set(DOMAIN_INGREDIENTS)
    for area in db.session.scalars(select(TreatmentArea)):
        assert found(area=area.slug), f"no product for {area.name}"


def test_the_demo_catalogue_states_the_regulatory_facts(demo):
    kybella = product_by_slug("kybella")
    assert kybella.prescription_only
    assert kybella.status_in("US").category == RegulatoryCategory.FDA_APPROVED
    assert not kybella.sale_permitted_in("EU")
    skinvive = product_by_slug("skinvive-by-juvederm")
    assert all(v.contains_lidocaine for v in skinvive.variants)
    assert "21" in skinvive.status_in("US").note
    vital = product_by_slug("restylane-skinboosters-vital")
    assert {v.contains_lidocaine for v in vital.variants} == {True, False}
    assert vital.status_in("EU").category == RegulatoryCategory.CE_MARKED
    assert "infection, scarring" in product_by_slug("aqualyx").status_in("US").note


def test_loading_the_demo_catalogue_twice_adds_nothing(demo):
    before = db.session.scalar(select(func.count(Variant.id)))
    make_catalogue()
    assert db.session.scalar(select(func.count(Variant.id))) == before
