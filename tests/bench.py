"""`make bench`: how fast the catalogue answers with a large catalogue, on SQLite and PostgreSQL.

Builds a catalogue of BENCH_PRODUCTS products (three variants each) in a scratch database, logs
in a verified clinician, and times the pages a clinician uses most through the WSGI app (no
network), reporting the median and 95th percentile and the peak Python memory of one request.
Results go to stdout; BENCHMARKS.md records them with the targets.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta

from shop import clock, create_app
from shop.accounts import users as accounts
from shop.accounts.models import Role
from shop.catalogue.models import (
    Brand,
    Category,
    Ingredient,
    Product,
    RegulatoryCategory,
    RegulatoryStatus,
    TreatmentArea,
    Variant,
)
from shop.extensions import db
from tests.helpers import WebClient

PRODUCTS = int(os.environ.get("BENCH_PRODUCTS", "2000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
PASSWORD = "Bench-harbour-lantern-42"
PAGES = {
    "catalogue, first page": "/catalogue",
    "search two words": "/catalogue?q=hydra+boost",
    "filters + sort by price": "/catalogue?category=skin-boosters&ingredient=glycerol&lidocaine=1&sort=price_asc",
    "page 50": "/catalogue?page=50",
    "product page": "/catalogue/product-1234",
}
TARGETS_MS = {"p95": 150}


def build(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
        categories = [Category(slug=f"cat-{i}", name=f"Category {i}") for i in range(4)]
        categories.append(Category(slug="skin-boosters", name="Skin boosters"))
        brands = [Brand(slug=f"brand-{i}", name=f"Brand {i}") for i in range(40)]
        ingredients = [
            Ingredient(slug=s, name=s.title()) for s in ("glycerol", "mannitol", "hyaluronic-acid", "amino-acids")
        ]
        areas = [TreatmentArea(slug=s, name=s.title()) for s in ("face", "neck", "hands", "thighs")]
        db.session.add_all(categories + brands + ingredients + areas)
        now = clock.now()
        words = ["hydra", "boost", "glow", "meso", "vital", "light", "rich", "max", "lift", "balance"]
        for n in range(PRODUCTS):
            product = Product(
                slug=f"product-{n}",
                name=f"{words[n % 10].title()} {words[(n // 10) % 10].title()} {n}",
                brand=brands[n % len(brands)],
                category=categories[n % len(categories)],
                summary=f"A {words[n % 10]} product for {words[(n // 7) % 10]} results.",
                description="Hyaluronic acid based injectable for professional use. " * 3,
                created_at=now - timedelta(minutes=n),
            )
            product.ingredients = [ingredients[n % 4], ingredients[(n + 1) % 4]]
            product.treatment_areas = [areas[n % 4]]
            for v in range(3):
                product.variants.append(
                    Variant(
                        sku=f"B{n:05d}-{v}",
                        label=f"Option {v}",
                        pack_size="1 x 1 mL",
                        contains_lidocaine=v == 1,
                        price_cents=5000 + (n * 37 + v * 1000) % 40000,
                        stock_on_hand=(n + v) % 30,
                    )
                )
            product.regulatory_statuses.append(
                RegulatoryStatus(market="EU", category=RegulatoryCategory.CE_MARKED, sale_permitted=True)
            )
            db.session.add(product)
        db.session.commit()
        accounts.create_user(email="bench@clinic.example", password=PASSWORD, role=Role.CLINICIAN, verified=True)


def measure(app) -> dict[str, tuple[float, float, float]]:
    client = WebClient(app.test_client())
    client.login("bench@clinic.example", PASSWORD)
    results = {}
    for label, path in PAGES.items():
        assert client.get(path).status_code == 200, path
        timings = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        tracemalloc.start()
        client.get(path)
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
        timings.sort()
        results[label] = (statistics.median(timings), timings[int(len(timings) * 0.95) - 1], peak)
    return results


def run(kind: str, url: str, folder: str) -> bool:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, UPLOAD_FOLDER=os.path.join(folder, "uploads"))
    start = time.perf_counter()
    build(app)
    print(f"\n{kind}: {PRODUCTS} products, {PRODUCTS * 3} variants (built in {time.perf_counter() - start:.1f}s)")
    print(f"  {'page':<28}{'median ms':>10}{'p95 ms':>10}{'peak MiB':>10}")
    ok = True
    for label, (median, p95, peak) in measure(app).items():
        flag = "" if p95 <= TARGETS_MS["p95"] else "  <-- over target"
        ok = ok and not flag
        print(f"  {label:<28}{median:>10.1f}{p95:>10.1f}{peak:>10.2f}{flag}")
    with app.app_context():
        db.engine.dispose()
    return ok


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        ok &= run("SQLite", f"sqlite:///{folder}/bench.db", folder)
        pg = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
        try:
            import psycopg

            conn = psycopg.connect(pg, connect_timeout=3, autocommit=True)
        except Exception as exc:  # noqa: BLE001 - report and carry on with SQLite only
            print(f"\nPostgreSQL not reachable ({exc}); skipped")
        else:
            schema = f"shop_bench_{os.getpid()}"
            conn.execute(f'CREATE SCHEMA "{schema}"')
            try:
                from tests.conftest import postgres_schema_url

                ok &= run("PostgreSQL", postgres_schema_url(pg, schema), folder)
            finally:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
                conn.close()
    print(f"\ntarget: p95 <= {TARGETS_MS['p95']} ms per page -> {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
