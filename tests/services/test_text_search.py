"""The catalogue's full-text search (shop.catalogue.search_index, shop.catalogue.text_search): the
index follows every change in the transaction that makes it, words are matched as they are
typed, names outrank descriptions, misspelt names find what they mean, and each database's own
index serves the match."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from shop import clock
from shop.catalogue import search_index
from shop.catalogue.corrections import correction
from shop.catalogue.lookup import product_with_code
from shop.catalogue.models import Category, Ingredient, Product, Variant
from shop.catalogue.search import CatalogueFilter, product_query, search_products
from shop.catalogue.search_index import ProductSearch, SearchWord, fold, words
from shop.catalogue.text_search import closest_words, matches
from shop.core.paging import CappedPagination
from shop.extensions import db
from tests.factories import make_catalogue, make_product, option


@contextmanager
def watching_statements(sent: list[str]):
    """Collect the SQL the test's engine sends meanwhile."""

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement.strip())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def found(q: str, **filters) -> list[str]:
    return [row.slug for row in db.session.execute(product_query(CatalogueFilter(q=q, **filters)))]


def ranked(q: str) -> list[str]:
    return found(q, sort="relevance")


@pytest.fixture
def demo():
    make_catalogue()


# --- the words ------------------------------------------------------------------------------


def test_words_are_folded_and_split_at_anything_but_letters_and_digits():
    assert fold("Juvéderm ÉCLAT Straße") == "juvederm eclat strasse"
    assert words("RSB-VIT-1 (1 mL), Teosyal® PureSense_Redensity") == [
        "rsb", "vit", "1", "1", "ml", "teosyal", "puresense", "redensity"
    ]  # fmt: skip
    assert words("%_\\ ,;") == []


# --- kept in step with the catalogue -----------------------------------------------------------


def test_a_new_product_is_found_before_its_transaction_commits_and_not_after_a_rollback():
    first = make_product(name="Aurora Glow", slug="aurora", sku="AUR-1")
    product = Product(
        slug="borealis", name="Borealis Lift", brand=first.brand, category=first.category, created_at=clock.now()
    )
    product.variants.append(Variant(sku="BOR-1", label="1 mL", pack_size="1 x 1 mL", price_cents=100))
    db.session.add(product)
    db.session.flush()
    assert found("borealis") == ["borealis"]
    db.session.rollback()
    assert found("borealis") == []
    assert db.session.scalar(select(ProductSearch.product_id).where(ProductSearch.name.contains("borealis"))) is None
    assert found("aurora") == ["aurora"]


def test_renaming_a_product_brand_ingredient_or_option_changes_what_finds_it():
    product = make_product(name="Aurora Glow", slug="aurora", sku="AUR-1", brand="Nordlys")
    ingredient = Ingredient(slug="glycerol", name="Glycerol")
    product.ingredients = [ingredient]
    db.session.commit()
    assert found("glycerol") == found("nordlys") == found("aur-1") == ["aurora"]

    product.name = "Zenith Glow"
    product.brand.name = "Polaris"
    ingredient.name = "Mannitol"
    product.variants[0].label = "Vial of two"
    db.session.commit()
    assert found("zenith") == found("polaris") == found("mannitol") == found("vial two") == ["aurora"]
    assert found("aurora") == found("nordlys") == found("glycerol") == []


def test_an_option_taken_off_sale_no_longer_finds_its_product_by_its_sku():
    product = make_product(
        name="Kit", slug="kit", sku="KIT-NEW", options=[option("KIT-OLD", label="Old", price_cents=1)]
    )
    assert found("kit-old") == ["kit"]
    product.variants[1].active = False
    db.session.commit()
    assert found("kit-old") == []
    assert found("kit-new") == ["kit"]


def test_stock_changes_leave_the_index_alone():
    product = make_product(name="Aurora Glow", slug="aurora", sku="AUR-1")
    product.variants[0].stock_on_hand += 5
    sent = []
    with watching_statements(sent):
        db.session.commit()
    assert not [s for s in sent if "product_search" in s or "search_words" in s], sent
    assert any(s.startswith("UPDATE variants") for s in sent)


def test_the_lowest_price_and_the_lidocaine_option_follow_the_options_on_sale():
    product = make_product(
        name="Aurora Glow", slug="aurora", sku="AUR-1", price_cents=9000,
        options=[option("AUR-2", label="With lidocaine", price_cents=7000, lidocaine=True)],
    )  # fmt: skip
    row = db.session.get(ProductSearch, product.id)
    assert (row.min_price_cents, row.lidocaine) == (7000, True)
    product.variants[1].active = False
    product.variants[0].price_cents = 8000
    db.session.commit()
    db.session.refresh(row)
    assert (row.min_price_cents, row.lidocaine) == (8000, False)
    assert found("", lidocaine=True) == []
    product.variants[1].active = True
    db.session.commit()
    assert found("", lidocaine=True) == ["aurora"]


def test_rebuild_indexes_every_product_afresh():
    make_product(name="Aurora Glow", slug="aurora")
    make_product(name="Borealis Lift", slug="borealis")
    db.session.execute(ProductSearch.__table__.delete())
    assert found("aurora") == []
    assert search_index.rebuild(db.session.connection()) == 2
    assert found("aurora") == ["aurora"] and found("borealis") == ["borealis"]


# --- matching and ranking ---------------------------------------------------------------------


def test_every_word_is_matched_as_the_start_of_a_word(demo):
    assert set(found("resty")) == {"restylane-skinboosters-vital", "restylane-skinboosters-vital-light"}
    assert found("resty vital lig") == ["restylane-skinboosters-vital-light"]
    assert found("estylane") == []  # the start of a word, not any part of it


def test_name_and_brand_matches_come_before_description_matches():
    make_product(name="Contour Serum", slug="describes", description="Pairs well with a hydrating skin booster.")
    make_product(name="Hydrating Booster", slug="named", description="A booster.")
    assert ranked("hydrating") == ["named", "describes"]


def test_an_exact_sku_or_gtin_names_its_product():
    product = make_product(name="Kit", slug="kit", sku="KIT-1")
    product.variants[0].gtin = "04012345678901"
    db.session.commit()
    assert product_with_code("kit-1").slug == "kit"
    assert product_with_code(" 04012345678901 ").slug == "kit"
    assert product_with_code("4012345678901").slug == "kit"  # the EAN-13 as printed
    assert product_with_code("KIT") is None
    assert product_with_code("x" * 500) is None


# --- typos ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("restylnae", "Restylane"),
        ("juvaderm", "Juvéderm"),
        ("belotaro", "Belotero"),
        ("teosyl redensty", "Teosyal Redensity"),
        ("restylnae vital", "Restylane vital"),
    ],
)
def test_a_misspelt_name_is_corrected_to_the_name_it_means(demo, typed, meant):
    assert found(typed) == []
    assert correction(CatalogueFilter(q=typed)) == meant
    assert found(meant)


@pytest.mark.parametrize("typed", ["qzxvbnm", "restylane kybella", "ab", "1234567"])
def test_no_correction_is_offered_where_none_would_find_anything(demo, typed):
    assert correction(CatalogueFilter(q=typed)) is None


def test_a_correction_keeps_the_filters(demo):
    assert correction(CatalogueFilter(q="restylnae", category="fat-dissolving")) is None
    assert correction(CatalogueFilter(q="restylnae", category="skin-boosters")) == "Restylane"


def test_a_word_the_vocabulary_holds_needs_no_correction(demo):
    assert closest_words(["restylane", "restylnae", "ab", "2024"]) == [None, ("restylane", "Restylane"), None, None]
    assert db.session.scalar(select(SearchWord.display).where(SearchWord.word == "juvederm")) == "Juvéderm"


# --- counting -------------------------------------------------------------------------------


def test_the_count_stops_a_few_pages_ahead(monkeypatch):
    for n in range(12):
        make_product(name="Glow Eleven" if n == 11 else f"Glow {n:02d}", slug=f"glow-{n}")
    monkeypatch.setattr(CappedPagination, "COUNT_FLOOR", 4)
    monkeypatch.setattr(CappedPagination, "PAGES_AHEAD", 1)
    first = search_products(CatalogueFilter(q="glow"), 1, 2)
    assert (first.total, first.capped, first.pages) == (4, True, 2)
    third = search_products(CatalogueFilter(q="glow"), 3, 2)
    assert (third.total, third.capped) == (8, True)
    last = search_products(CatalogueFilter(q="glow"), 6, 2)
    assert (last.total, last.capped) == (12, False)
    short = search_products(CatalogueFilter(q="glow eleven"), 1, 2)
    assert (short.total, short.capped, [p.slug for p in short.items]) == (1, False, ["glow-11"])


# --- the database's own index -------------------------------------------------------------------


def test_the_match_is_served_by_the_databases_full_text_index():
    make_product(name="Aurora Glow", slug="aurora")
    matched = matches(["auro"])
    statement = select(matched.c.product_id).select_from(matched)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("SET LOCAL enable_seqscan = off"))
        sql = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(db.session.scalars(db.text(f"EXPLAIN {sql}")))
        assert "ix_product_search_documents_document" in plan, plan
        words_plan = "\n".join(
            db.session.scalars(db.text("EXPLAIN SELECT word FROM search_words ORDER BY word <-> 'auora' LIMIT 20"))
        )
        assert "ix_search_words_trigram" in words_plan, words_plan
        # Changes go into the index at once: a search never reads a pending list of them.
        options = db.session.scalar(
            db.text("SELECT reloptions FROM pg_class WHERE oid = 'ix_product_search_documents_document'::regclass")
        )
        assert "fastupdate=off" in options, options
    else:
        sql = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(row) for row in db.session.execute(db.text(f"EXPLAIN QUERY PLAN {sql}")))
        assert "VIRTUAL TABLE INDEX" in plan and "product_search_fts" in plan, plan
    assert db.session.execute(statement).scalars().all() == [db.session.scalar(select(Product.id))]


def test_a_product_moved_to_another_category_is_listed_there_in_price_order():
    product = make_product(name="Aurora Glow", slug="aurora")
    make_product(name="Borealis Lift", slug="borealis", price_cents=500)
    fillers = Category(slug="fillers", name="Fillers")
    db.session.add(fillers)
    product.category = fillers
    db.session.commit()
    assert found("", category="fillers", sort="price_asc") == ["aurora"]
    assert found("", category="skin-boosters", sort="price_desc") == ["borealis"]
    assert found("", category="skin-boosters", sort="name") == ["borealis"]
