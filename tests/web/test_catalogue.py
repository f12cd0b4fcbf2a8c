"""The catalogue as a verified clinician and staff see it: the listing with its filters, search,
sorting and paging, and the product page with variants, prices, availability and regulatory
status. Whatever a person types into the address bar gets a page, never a server error."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import quote

import pytest

from shop import clock
from shop.accounts import verification
from shop.accounts.licences import ApplicationStatus
from shop.accounts.models import Profession
from shop.catalogue.models import Product
from shop.core.paging import CappedPagination
from shop.demo.catalogue import PRODUCTS
from shop.extensions import db
from tests.factories import make_applicant, make_catalogue, make_clinician, make_product, make_staff, option
from tests.helpers import statements_during, text

ALL_DEMO = {p["slug"] for p in PRODUCTS}
PRODUCT_LINK = re.compile(r'<h2><a href="/catalogue/([a-z0-9-]+)">')


def listed(response) -> list[str]:
    """The slugs of the product cards on a listing page, in the order shown."""
    assert response.status_code == 200, response.status_code
    return PRODUCT_LINK.findall(response.get_data(as_text=True))


def demo_slugs(**where) -> set[str]:
    """Demo products whose data matches every `key=predicate` given."""
    return {p["slug"] for p in PRODUCTS if all(test(p[key]) for key, test in where.items())}


@pytest.fixture
def clinician(signed_in):
    return signed_in(make_clinician())


@pytest.fixture
def catalogue(clinician):
    make_catalogue()
    return clinician


@pytest.fixture
def everything(app, monkeypatch):
    """One page holds the whole demo catalogue, so a filter's full result is visible at once."""
    monkeypatch.setitem(app.config, "CATALOGUE_PAGE_SIZE", 100)


# --- listing -----------------------------------------------------------------------------


def test_a_verified_clinician_sees_every_active_product_of_the_demo_catalogue(catalogue, everything):
    response = catalogue.get("/catalogue")
    assert set(listed(response)) == ALL_DEMO
    assert f"{len(ALL_DEMO)} products" in text(response)


def test_staff_browse_the_catalogue_and_open_a_product(signed_in, everything):
    make_catalogue()
    staff = signed_in(make_staff())
    assert set(listed(staff.get("/catalogue?category=fat-dissolving"))) == {"aqualyx", "kybella"}
    page = text(staff.get("/catalogue/kybella"))
    assert "KYB-4X2" in page and "$2,400.00" in page
    assert "prescription-only and can be ordered only by prescribers" not in page


def test_the_listing_shows_brand_category_and_the_lowest_price_of_each_card(catalogue):
    page = text(catalogue.get("/catalogue?q=vital light"))
    assert "Restylane · Skin boosters" in page
    assert "from $119.00 · 2 options" in page


@pytest.mark.parametrize(
    "category",
    ["skin-boosters", "mesotherapy-face", "mesotherapy-body", "fat-dissolving", "dermal-fillers"],
)
def test_a_category_lists_exactly_its_own_products(catalogue, everything, category):
    expected = demo_slugs(category=lambda c: c == category)
    assert expected
    assert set(listed(catalogue.get(f"/catalogue?category={category}"))) == expected


def test_the_category_links_on_a_product_page_lead_to_that_category(catalogue):
    html = catalogue.get("/catalogue/alidya").get_data(as_text=True)
    assert 'href="/catalogue?category=mesotherapy-body"' in html


def test_the_filter_panel_offers_every_category_and_brand(catalogue):
    page = text(catalogue.get("/catalogue"))
    for name in (
        "Skin boosters",
        "Mesotherapy (face)",
        "Mesotherapy (body)",
        "Fat-dissolving injectables",
        "Dermal fillers",
    ):
        assert name in page
    for brand in ("Restylane", "Juvéderm", "Teosyal", "Kybella", "Alidya"):
        assert brand in page


def test_the_brand_filter_shows_only_that_brands_products(catalogue, everything):
    assert set(listed(catalogue.get("/catalogue?brand=teosyal"))) == {
        "teosyal-meso",
        "teosyal-puresense-redensity-ii",
        "teosyal-rha-2",
    }


def test_the_ingredient_filter_shows_products_containing_it(catalogue, everything):
    assert set(listed(catalogue.get("/catalogue?ingredient=deoxycholic-acid"))) == {"aqualyx", "kybella"}
    assert set(listed(catalogue.get("/catalogue?ingredient=sorbitol"))) == {"stylage-hydromax"}
    assert set(listed(catalogue.get("/catalogue?ingredient=mannitol"))) == demo_slugs(
        ingredients=lambda i: "mannitol" in i
    )


def test_the_treatment_area_filter_shows_products_for_that_area(catalogue, everything):
    assert set(listed(catalogue.get("/catalogue?area=chin"))) == {"aqualyx", "kybella"}
    assert set(listed(catalogue.get("/catalogue?area=buttocks"))) == {"alidya"}
    assert set(listed(catalogue.get("/catalogue?area=eye-area"))) == demo_slugs(areas=lambda a: "eye-area" in a)


def test_with_lidocaine_shows_only_products_sold_with_lidocaine(catalogue, everything):
    shown = set(listed(catalogue.get("/catalogue?lidocaine=1")))
    assert shown == demo_slugs(variants=lambda vs: any(v[3] for v in vs))
    assert "restylane-skinboosters-vital" in shown
    assert "teosyal-meso" not in shown


def test_in_stock_hides_products_with_nothing_on_the_shelf(catalogue, everything):
    shown = set(listed(catalogue.get("/catalogue?in_stock=1")))
    assert "pluryal-booster" not in shown  # its only option has no stock
    assert "saypha-filler-lidocaine" in shown  # one of its two options is in stock
    assert shown == demo_slugs(variants=lambda vs: any(v[5] > 0 for v in vs))


def test_filters_combine(catalogue, everything):
    shown = set(listed(catalogue.get("/catalogue?category=skin-boosters&lidocaine=1&brand=restylane")))
    assert shown == {"restylane-skinboosters-vital", "restylane-skinboosters-vital-light"}


def test_the_chosen_filters_stay_selected_in_the_panel(catalogue):
    html = catalogue.get("/catalogue?category=dermal-fillers&lidocaine=1&sort=price_desc").get_data(as_text=True)
    assert '<option value="dermal-fillers" selected>' in html
    assert '<option value="price_desc" selected>' in html
    assert re.search(r'id="lidocaine"[^>]*checked', html)


# --- search ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hydromax", {"stylage-hydromax"}),  # product name
        ("Teosyal", {"teosyal-meso", "teosyal-puresense-redensity-ii", "teosyal-rha-2"}),  # brand
        ("tear troughs", {"teosyal-puresense-redensity-ii", "belotero-balance-lidocaine"}),  # description
        ("KYB-4X", {"kybella"}),  # the start of an SKU
        ("kyb-4x", {"kybella"}),  # in another case
        ("resty", {"restylane-skinboosters-vital", "restylane-skinboosters-vital-light"}),  # as it is typed
        ("resty vit lig", {"restylane-skinboosters-vital-light"}),
        ("RESTYLANE", {"restylane-skinboosters-vital", "restylane-skinboosters-vital-light"}),
        ("restylane light", {"restylane-skinboosters-vital-light"}),  # every word must match
        ("  restylane   LIGHT ", {"restylane-skinboosters-vital-light"}),
        ("restylane kybella", set()),
        ("juvederm", {"juvederm-hydrate", "skinvive-by-juvederm", "juvederm-volbella-lidocaine"}),  # no accent
        ("Juvéderm hydrate", {"juvederm-hydrate"}),
    ],
)
def test_search_matches_names_brands_descriptions_and_skus(catalogue, everything, query, expected):
    assert set(listed(catalogue.get("/catalogue", query_string={"q": query}))) == expected


def test_the_header_search_box_searches_the_catalogue(catalogue):
    html = catalogue.get("/catalogue/kybella").get_data(as_text=True)
    form = re.search(r'<form class="header-search"[^>]*action="([^"]+)"', html)
    assert form and form.group(1) == "/catalogue"
    assert 'id="header-q" type="search" name="q"' in html
    response = catalogue.get("/catalogue?q=aqualyx")
    assert listed(response) == ["aqualyx"]
    assert 'value="aqualyx"' in response.get_data(as_text=True)


def test_signs_in_a_search_are_neither_wildcards_nor_words(clinician, everything):
    """Search reads words (letters and digits): "%" and "_" match nothing by themselves, and
    never stand for any letter."""
    make_product(name="Hydra 100% gel", slug="hydra-percent")
    make_product(name="Hydra 200 gel", slug="hydra-plain")
    make_product(name="Zap_Q", slug="zap-underscore")
    make_product(name="ZapAQ", slug="zap-letter")
    assert listed(clinician.get("/catalogue", query_string={"q": "100%"})) == ["hydra-percent"]
    assert listed(clinician.get("/catalogue", query_string={"q": "%"})) == []
    assert listed(clinician.get("/catalogue", query_string={"q": "zap_q"})) == ["zap-underscore"]
    assert listed(clinician.get("/catalogue", query_string={"q": "_"})) == []
    assert "No products match" in text(clinician.get("/catalogue", query_string={"q": "%_%"}))


def test_a_search_without_results_offers_the_quotes_desk_with_what_was_searched_for(catalogue):
    response = catalogue.get("/catalogue?q=botulinum toxin")
    page = text(response)
    assert listed(response) == []
    assert "No products match" in page and "botulinum toxin" in page
    assert "Can't find it? Ask the quotes desk" in page
    html = response.get_data(as_text=True)
    assert 'href="/catalogue"' in html
    link = unescape(re.search(r'href="([^"]+)">Ask for a quote', html).group(1))
    assert link == "/quotes/new?item=botulinum+toxin"
    form = catalogue.get(link).get_data(as_text=True)
    assert re.search(r'name="others-0-item"[^>]*value="botulinum toxin"', form)
    assert re.search(r'name="others-0-quantity"[^>]*value="1"', form)


def test_staff_searching_in_vain_are_given_the_quotes_desks_address(app, signed_in):
    make_catalogue()
    staff = signed_in(make_staff())
    response = staff.get("/catalogue?q=botulinum")
    assert "Ask for a quote" not in text(response)
    assert f'href="mailto:{app.config["QUOTES_DESK_EMAIL"]}"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "meant", "one_of_them"),
    [
        ("restylnae", "Restylane", "restylane-skinboosters-vital"),
        ("juvaderm hydrat", "Juvéderm hydrat", "juvederm-hydrate"),
        ("belotaro", "Belotero", "belotero-hydro"),
    ],
)
def test_a_misspelt_name_shows_what_it_means_and_says_so(catalogue, everything, typed, meant, one_of_them):
    response = catalogue.get("/catalogue", query_string={"q": typed})
    shown = listed(response)
    assert one_of_them in shown
    assert f"Nothing matches “{typed}”. Did you mean" in text(response)
    html = response.get_data(as_text=True)
    link = re.search(r'Did you mean <a href="([^"]+)">([^<]+)</a>\?', html)
    assert link.group(2) == meant
    meant_page = catalogue.get(unescape(link.group(1)))
    assert listed(meant_page) == shown
    assert "Did you mean" not in text(meant_page)


@pytest.mark.parametrize(("typed", "slug"), [("KYB-4X2", "kybella"), ("kyb-4x2", "kybella"), (" rsb-vit-1 ", None)])
def test_an_exact_sku_goes_straight_to_its_product(catalogue, typed, slug):
    response = catalogue.get("/catalogue", query_string={"q": typed})
    assert response.status_code == 302
    if slug:
        assert response.headers["Location"] == f"/catalogue/{slug}"
    assert catalogue.get(response.headers["Location"]).status_code == 200


def test_a_gtin_goes_straight_to_its_product(clinician):
    product = make_product(name="Kit", slug="kit", sku="KIT-1")
    product.variants[0].gtin = "04012345678901"
    db.session.commit()
    for typed in ("04012345678901", "4012345678901"):
        assert clinician.get("/catalogue", query_string={"q": typed}).headers["Location"] == "/catalogue/kit"


def test_a_search_is_ordered_by_best_match_unless_another_order_is_chosen(clinician, everything):
    make_product(name="Contour Serum", slug="describes", description="Pairs well with a hydrating skin booster.")
    make_product(name="Hydrating Booster", slug="named", description="A booster.")
    response = clinician.get("/catalogue?q=hydrating")
    assert listed(response) == ["named", "describes"]
    assert re.search(r'<option value="relevance"\s+selected>Best match', response.get_data(as_text=True))
    assert listed(clinician.get("/catalogue?q=hydrating&sort=name")) == ["describes", "named"]


def test_a_long_result_count_stops_a_few_pages_ahead(clinician, app, monkeypatch):
    for n in range(7):
        make_product(name=f"Glow {n}", slug=f"glow-{n}")
    monkeypatch.setitem(app.config, "CATALOGUE_PAGE_SIZE", 2)
    monkeypatch.setattr(CappedPagination, "COUNT_FLOOR", 4)
    monkeypatch.setattr(CappedPagination, "PAGES_AHEAD", 1)
    filtered = "/catalogue?q=glow&category=skin-boosters"
    assert "4+ products match your search" in text(clinician.get(filtered))
    assert "7 products match your search" in text(clinician.get(filtered + "&page=4"))
    # Words alone are ranked over every match, and counted by the same statement, which keeps
    # the best few pages' worth only.
    assert "4+ products match your search" in text(clinician.get("/catalogue?q=glow"))
    assert "7 products match your search" in text(clinician.get("/catalogue?q=glow&page=4"))
    second = text(clinician.get("/catalogue?q=glow&page=2"))
    assert "6+ products match your search" in second
    assert statements_during(lambda: clinician.get("/catalogue?q=glow")) < statements_during(
        lambda: clinician.get(filtered)
    )


# --- sorting -----------------------------------------------------------------------------


@pytest.fixture
def three_products(clinician, everything):
    """Names, prices and ages in three different orders."""
    now = clock.now()
    make_product(
        name="Bravo gel", slug="bravo", price_cents=30000, created_at=now - timedelta(days=1), brand="Zeta Labs"
    )
    make_product(name="Alpha gel", slug="alpha", price_cents=20000, created_at=now - timedelta(days=3))
    make_product(name="Charlie gel", slug="charlie", price_cents=10000, created_at=now - timedelta(days=2))
    return clinician


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["alpha", "bravo", "charlie"]),
        ("price_asc", ["charlie", "alpha", "bravo"]),
        ("price_desc", ["bravo", "alpha", "charlie"]),
        ("brand", ["alpha", "charlie", "bravo"]),  # Testbrand before Zeta Labs
        ("newest", ["bravo", "charlie", "alpha"]),
        ("no-such-sort", ["alpha", "bravo", "charlie"]),
    ],
)
def test_the_listing_sorts_as_asked(three_products, sort, expected):
    assert listed(three_products.get(f"/catalogue?sort={sort}")) == expected


def test_the_default_order_is_by_name(three_products):
    assert listed(three_products.get("/catalogue")) == ["alpha", "bravo", "charlie"]


def test_price_sorting_uses_the_cheapest_option_still_on_sale(three_products):
    bravo = db.session.scalar(db.select(Product).where(Product.slug == "bravo"))
    bravo.variants.append(option("BRV-OLD", label="Old", price_cents=100, active=False))
    bravo.variants.append(option("BRV-SMALL", label="Small", price_cents=15000, stock=3))
    db.session.commit()
    assert listed(three_products.get("/catalogue?sort=price_asc")) == ["charlie", "bravo", "alpha"]


def test_sorting_the_demo_catalogue_by_brand_groups_brands_alphabetically(catalogue, everything):
    slugs = listed(catalogue.get("/catalogue?sort=brand"))
    brands = [db.session.scalar(db.select(Product).where(Product.slug == s)).brand.name for s in slugs]
    assert len(slugs) == len(ALL_DEMO)
    assert brands == sorted(brands)


# --- paging ------------------------------------------------------------------------------


@pytest.fixture
def small_pages(app, monkeypatch, catalogue):
    monkeypatch.setitem(app.config, "CATALOGUE_PAGE_SIZE", 5)
    return catalogue


def test_the_catalogue_is_split_into_pages_of_the_configured_size(small_pages):
    seen = []
    for number in range(1, 6):
        shown = listed(small_pages.get(f"/catalogue?page={number}"))
        assert len(shown) == (5 if number < 5 else len(ALL_DEMO) - 20)
        seen += shown
    assert len(seen) == len(set(seen)) == len(ALL_DEMO)
    assert seen == listed(small_pages.get("/catalogue?page=1")) + seen[5:]


def test_page_links_keep_the_search_and_filters(small_pages):
    html = small_pages.get("/catalogue?category=skin-boosters&sort=price_asc").get_data(as_text=True)
    next_link = unescape(re.search(r'<a rel="next" href="([^"]+)"', html).group(1))
    assert "category=skin-boosters" in next_link and "sort=price_asc" in next_link and "page=2" in next_link
    second = listed(small_pages.get(next_link))
    assert second and not set(second) & set(listed(small_pages.get("/catalogue?category=skin-boosters&sort=price_asc")))


def test_a_page_beyond_the_end_shows_an_empty_state_with_a_way_back(small_pages):
    response = small_pages.get("/catalogue?page=99&brand=restylane")
    assert listed(response) == []
    assert response.status_code == 200
    assert "No products on this page" in text(response) and "past the end" in text(response)
    link = unescape(re.search(r'href="([^"]+)">Go to the first page', response.get_data(as_text=True)).group(1))
    assert "page=1" in link and "brand=restylane" in link
    assert len(listed(small_pages.get(link))) == 2


@pytest.mark.parametrize("page", ["abc", "-5", "0", "", "1.5", "%00"])
def test_a_page_number_that_is_not_a_positive_number_means_the_first_page(small_pages, page):
    assert listed(small_pages.get(f"/catalogue?page={page}")) == listed(small_pages.get("/catalogue"))


# --- what is not on sale ------------------------------------------------------------------


def test_an_inactive_product_is_neither_listed_nor_found_nor_shown(clinician, everything):
    make_product(name="Visible gel", slug="visible")
    make_product(name="Withdrawn gel", slug="withdrawn", sku="WDR-1", active=False)
    assert listed(clinician.get("/catalogue")) == ["visible"]
    assert listed(clinician.get("/catalogue?q=withdrawn")) == []
    assert listed(clinician.get("/catalogue?q=WDR-1")) == []
    assert clinician.get("/catalogue/withdrawn").status_code == 404


def test_an_inactive_variant_counts_for_nothing_in_the_listing(clinician, everything):
    make_product(
        name="Mixed gel",
        slug="mixed",
        sku="MIX-1",
        price_cents=20000,
        lidocaine=False,
        options=[option("MIX-OLD-L", label="Old", price_cents=5000, stock=9, lidocaine=True, active=False)],
    )
    page = text(clinician.get("/catalogue"))
    assert "$200.00 · 1 option" in page and "$50.00" not in page
    assert listed(clinician.get("/catalogue?lidocaine=1")) == []
    assert listed(clinician.get("/catalogue?q=mix-old")) == []
    assert "Lidocaine option" not in page


def test_a_product_with_no_option_left_on_sale_is_not_listed(clinician, everything):
    make_product(name="Current gel", slug="current")
    make_product(name="Retired gel", slug="retired", discontinued=True)
    assert listed(clinician.get("/catalogue")) == ["current"]


# --- product page ------------------------------------------------------------------------


def test_a_product_page_lists_each_option_with_sku_pack_lidocaine_and_price(catalogue):
    response = catalogue.get("/catalogue/restylane-skinboosters-vital")
    page = text(response)
    assert "Restylane Skinboosters Vital" in page
    assert "RSB-VIT-1 Vital, 1 mL 1 syringe of 1 mL, 2 needles 29G Without $129.00" in page
    assert "RSB-VIT-1L Vital with lidocaine, 1 mL 1 syringe of 1 mL, 2 needles 29G With lidocaine $139.00" in page
    assert "RSB-VIT-PEN" in page and "$215.00" in page


def test_prices_are_shown_in_the_shops_currency(app, monkeypatch, catalogue):
    monkeypatch.setitem(app.config, "SHOP_CURRENCY", "EUR")
    page = text(catalogue.get("/catalogue/restylane-skinboosters-vital"))
    assert "€129.00" in page and "Price (EUR)" in page
    assert "$" not in page
    assert "from €119.00" in text(catalogue.get("/catalogue?q=vital light"))


def test_each_option_shows_whether_it_can_be_had(clinician):
    make_product(
        name="Stock gel",
        slug="stock-gel",
        sku="STK-PLENTY",
        stock=50,
        options=[
            option("STK-FEW", label="Few", price_cents=1000, stock=3, position=1),
            option("STK-NONE", label="None", price_cents=1000, stock=0, position=2),
            option("STK-GONE", label="Gone", price_cents=1000, stock=40, active=False, position=3),
        ],
    )
    page = text(clinician.get("/catalogue/stock-gel"))
    assert re.search(r"STK-PLENTY .*? In stock", page)
    assert re.search(r"STK-FEW .*? Low stock", page)
    assert re.search(r"STK-NONE .*? Out of stock", page)
    assert re.search(r"STK-GONE .*? Discontinued", page)


def test_a_product_page_gives_the_clinical_and_regulatory_facts(catalogue):
    page = text(catalogue.get("/catalogue/restylane-skinboosters-vital"))
    assert "Stabilised hyaluronic acid 20 mg/mL" in page  # composition
    for area in ("Face", "Neck", "Décolletage", "Backs of hands"):
        assert area in page
    assert "0.1-0.2 mL, spaced 1-3 cm apart, about 2 mm deep" in page  # technique
    assert "Known allergy to lidocaine" in page and "pregnancy and breastfeeding" in page  # contraindications
    assert "European Union (our market) CE-marked" in page
    assert "United States Not approved" in page


def test_a_product_not_cleared_in_the_shops_market_is_marked_not_for_sale(catalogue):
    kybella = text(catalogue.get("/catalogue/kybella"))
    assert "not cleared for sale in the market we serve (EU)" in kybella
    assert "Not for sale in EU" in kybella
    vital = text(catalogue.get("/catalogue/restylane-skinboosters-vital"))
    assert "not cleared for sale" not in vital and "Not for sale" not in vital
    assert "Not for sale in EU" in text(catalogue.get("/catalogue?q=kybella"))


def test_the_market_follows_the_shops_configuration(app, monkeypatch, catalogue):
    monkeypatch.setitem(app.config, "SHOP_MARKET", "US")
    assert "not cleared for sale" not in text(catalogue.get("/catalogue/kybella"))
    assert "not cleared for sale in the market we serve (US)" in text(catalogue.get("/catalogue/teosyal-meso"))


@pytest.fixture
def nurse(signed_in):
    """A verified registered nurse: a licensed professional who is not a prescriber."""
    applicant = make_applicant(profession=Profession.REGISTERED_NURSE)
    verification.decide(applicant.application.id, make_staff(), ApplicationStatus.APPROVED)
    return signed_in(applicant)


PRESCRIBERS_ONLY = "prescription-only and can be ordered only by prescribers"


def test_a_prescription_only_product_warns_a_non_prescriber(nurse):
    make_catalogue()
    assert PRESCRIBERS_ONLY in text(nurse.get("/catalogue/kybella"))
    assert PRESCRIBERS_ONLY in text(nurse.get("/catalogue/skinvive-by-juvederm"))
    assert PRESCRIBERS_ONLY not in text(nurse.get("/catalogue/teosyal-meso"))


def test_a_prescriber_sees_no_prescription_warning(catalogue):
    page = text(catalogue.get("/catalogue/kybella"))
    assert PRESCRIBERS_ONLY not in page
    assert "Prescription-only" in page


def test_an_unknown_product_is_a_404(catalogue):
    response = catalogue.get("/catalogue/no-such-product")
    assert response.status_code == 404
    assert "Page not found" in text(response)


@pytest.mark.parametrize(
    "slug",
    [
        "%00",
        "kybella%00",
        "KYBELLA",
        "Kybella",
        "kybella.html",
        "..",
        "kybella..",
        "a.b",
        "kyb%C3%A9lla",
        "-kybella",
        "kybella-",
        "%2e%2e%2fetc",
        "x" * 500,
    ],
)
def test_a_slug_with_odd_characters_is_a_404(catalogue, slug):
    assert catalogue.get(f"/catalogue/{slug}").status_code == 404


# --- nothing a person types breaks the page ------------------------------------------------

TYPED = [
    "q=%00",
    "q=botox%00filler",
    "q=" + "a" * 5000,
    "q=" + "hyaluronic+" * 600,
    "q=%27%3B+DROP+TABLE+products%3B--",
    "q=%27+OR+1%3D1+--",
    "q=%22%29+UNION+SELECT+*+FROM+users--",
    "q=%5C",
    "q=%5C%25",
    "q=%25%25%25",
    "q=___",
    "q=%E2%80%8B",
    "q=%F0%9F%92%89+%E6%B3%A8%E5%B0%84",
    "q=%C4%B0stanbul+%C3%9F",
    "q=%FF%FE",
    "q=%ED%A0%80",
    "q=",
    "q=+",
    "category=no-such-category",
    "category=%00",
    "category=" + "x" * 5000,
    "category=%27+OR+1%3D1",
    "category=%E2%91%A0",
    "brand=nobrand&ingredient=nothing&area=nowhere",
    "brand=%00%00",
    "sort=%00",
    "sort=price_asc%3B+DROP+TABLE+products",
    "sort=" + "z" * 5000,
    "page=99999999999999999999999",
    "page=%00",
    "page=1e9",
    "page=-0",
    "lidocaine=%00&in_stock=maybe",
    "q=vital&q=kybella&category=skin-boosters&category=fat-dissolving&page=2&page=x&sort=name&sort=brand",
    "page=2&page=2&page=2",
    "q[]=x&category[]=y",
    "%00=%00",
]


@pytest.mark.parametrize("query", TYPED)
def test_no_query_string_a_person_can_type_breaks_the_listing(catalogue, query):
    response = catalogue.get(f"/catalogue?{query}")
    assert response.status_code == 200, query


def test_typed_text_is_shown_back_escaped(catalogue):
    html = catalogue.get("/catalogue", query_string={"q": '<script>alert("x")</script>'}).get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "path", ["/catalogue/%00", "/catalogue/%ff", "/catalogue/" + quote("注射"), "/catalogue/a%2Fb"]
)
def test_no_product_address_a_person_can_type_breaks_the_product_page(catalogue, path):
    assert catalogue.get(path).status_code == 404
