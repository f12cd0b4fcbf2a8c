"""`make bench`: how fast the catalogue and the back office's dashboard answer with a lot of
data, on SQLite and PostgreSQL.

Builds a catalogue of BENCH_PRODUCTS products (three variants each; 10,000 by default) and BENCH_ORDERS orders
(nearly all long delivered, as in a shop that has run for years) in a scratch database, logs in
a verified clinician and a member of staff, and times the pages through the WSGI app (no
network), reporting the median and 95th percentile and the peak Python memory of one request.
The orders come from BENCH_PRACTICES practices and the shipped ones have their parcels, shipment
lines and lots (tests/bench_traceability.py); the recall look-up and the recall desk's page are
timed on them, with how the database reads the look-up (BENCH_EXPLAIN=1 prints its whole plan).
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

import pyotp
from sqlalchemy import insert

from shop import clock, create_app
from shop.access import Desk
from shop.accounts import users as accounts
from shop.accounts.models import Role, SecondFactor, User
from shop.catalogue import import_jobs
from shop.catalogue.csv_format import COLUMNS, export_rows
from shop.extensions import db
from shop.ordering.models import Order, OrderStatus, PaymentMethod
from tests import bench_catalogue
from tests import bench_traceability as traceability
from tests.helpers import WebClient

PRODUCTS = int(os.environ.get("BENCH_PRODUCTS", "10000"))
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
ORDERS = int(os.environ.get("BENCH_ORDERS", "100000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
PASSWORD = "Bench-harbour-lantern-42"
STAFF_SECRET = pyotp.random_base32()
PAGES = {
    "catalogue, first page": "/catalogue",
    "search two words": "/catalogue?q=hydra+boost",
    "filters + sort by price": "/catalogue?category=skin-boosters&ingredient=glycerol&lidocaine=1&sort=price_asc",
    "page 50": "/catalogue?page=50",
    "product page": "/catalogue/product-1234",
}
STAFF_PAGES = {
    "dashboard": "/staff",
    "desk: product list": "/staff/catalogue",
    "desk: search a SKU": "/staff/catalogue?q=B01234",
    "desk: filters + low stock": "/staff/catalogue?category=1&status=active&cleared=yes&low_stock=1",
    "desk: page 50": "/staff/catalogue?page=50",
    "desk: low-stock list": "/staff/catalogue/low-stock",
    "desk: product page": "/staff/catalogue/1234",
    "desk: orders list": "/staff/orders",
    "desk: orders, page 50": "/staff/orders?page=50",
    "desk: orders by number": "/staff/orders?q=ORD-150000",
    "desk: orders of a practice": "/staff/orders?q=Clinic+0042",
    "desk: orders by email": "/staff/orders?q=owner0042%40clinic0042.example",
    "desk: quotes list": "/staff/quotes?queue=all",
    "desk: applications": "/staff/applications?status=all",
    "desk: practices": "/staff/practices?q=clinic+01",
}
# The desks' lists and searches at 100,000 orders (issue 14).
DESK_LISTS = [
    label for label in STAFF_PAGES if label.startswith(("desk: orders", "desk: quotes", "desk: app", "desk: prac"))
]
# The recall look-up has its target (issue 13); a recall's page lists every supply and notice
# of the recall, so what it costs is reported, not held to a page's target.
TARGETS_MS = (
    {"p95": 150, "dashboard": 50}
    | dict.fromkeys(DESK_LISTS, 30)
    | dict.fromkeys(traceability.LOOKUP_LABELS, traceability.LOOKUP_TARGET_MS)
    | dict.fromkeys(traceability.PAGE_LABELS)
)
IMPORT_TARGET_S = 120
# How the bench's orders stand: nearly all delivered long ago, a few waiting for the desk.
ORDER_MIX = (
    (OrderStatus.DELIVERED, 0.95),
    (OrderStatus.SHIPPED, 0.02),
    (OrderStatus.PROCESSING, 0.01),
    (OrderStatus.PLACED, 0.01),
    (OrderStatus.PAID, 0.005),
    (OrderStatus.AWAITING_PAYMENT, 0.005),
)


def build(app) -> traceability.Traceability:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
        bench_catalogue.add_catalogue(PRODUCTS)
        now = clock.now()
        clinician = accounts.create_user(
            email="bench@clinic.example", password=PASSWORD, role=Role.CLINICIAN, verified=True
        )
        desk = accounts.create_user(email="desk@supplier.example", password=PASSWORD, role=Role.STAFF)
        desk.desks = set(Desk)
        db.session.add(SecondFactor(user_id=desk.id, secret=STAFF_SECRET, created_at=now, confirmed_at=now))
        build_orders(traceability.build_practices(clinician))
        built = traceability.build_shipments(desk.id)
        db.session.commit()
        bench_catalogue.settle()
        return built


def build_orders(practices: list[traceability.BenchPractice]) -> None:
    """ORDERS orders of the bench's practices, inserted in batches (their totals are made up
    from their lines once bench_traceability has added these)."""
    now = clock.now()
    practice_of_next_order = traceability.practice_picker(practices)
    statuses = [status for status, share in ORDER_MIX for _ in range(int(share * 1000))]
    batch = []
    for n in range(ORDERS):
        status = statuses[n % len(statuses)]
        practice = practice_of_next_order()
        batch.append(
            {
                "number": f"ORD-{200000 + n}",
                "practice_id": practice.id,
                "placed_by_id": practice.owner_id,
                "status": status,
                "payment_method": PaymentMethod.CARD
                if status == OrderStatus.AWAITING_PAYMENT
                else PaymentMethod.ACCOUNT,
                "currency": "USD",
                "subtotal_cents": 10_000,
                "shipping_cents": 0,
                "tax_rate_bps": 2300,
                "tax_cents": 2300,
                "total_cents": 12_300,
                "practice_name": practice.name,
                "practice_phone": practice.phone,
                "ship_to": "12 Grand Parade\nCork",
                "ship_to_country": "IE",
                "clinician_name": practice.owner_name,
                "clinician_email": practice.owner_email,
                "profession": "physician",
                "licence_number": "BENCH-1",
                "licence_region": "Medical Council of Ireland",
                "licence_expiry": clock.today() + timedelta(days=365),
                "placed_at": now - timedelta(minutes=ORDERS - n),
            }
        )
        if len(batch) == 5000:
            db.session.execute(insert(Order), batch)
            batch = []
    if batch:
        db.session.execute(insert(Order), batch)
    db.session.commit()


def measure(app, email: str, pages: dict[str, str]) -> dict[str, tuple[float, float, float]]:
    client = WebClient(app.test_client())
    response = client.post("/login", {"email": email, "password": PASSWORD})
    if response.headers.get("Location") == "/login/code":
        client.post("/login/code", {"code": pyotp.TOTP(STAFF_SECRET).now()})
    results = {}
    for label, path in pages.items():
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
    built = build(app)
    print(f"\n{kind}: {PRODUCTS} products, {PRODUCTS * 3} variants (built in {time.perf_counter() - start:.1f}s)")
    print(f"  {ORDERS} orders")
    for line in traceability.describe(built):
        print(f"  {line}")
    print(f"  {'page':<28}{'median ms':>10}{'p95 ms':>10}{'peak MiB':>10}")
    ok = True
    timed = {
        **measure(app, "bench@clinic.example", PAGES),
        **measure(app, "desk@supplier.example", STAFF_PAGES | traceability.recall_pages(built)),
        **traceability.time_lookups(app, built),
    }
    for label, (median, p95, peak) in timed.items():
        target = TARGETS_MS.get(label, TARGETS_MS["p95"])
        flag = "" if target is None or p95 <= target else "  <-- over target"
        ok = ok and not flag
        flag = flag or ("  (no target)" if target is None else "")
        print(f"  {label:<28}{median:>10.1f}{p95:>10.1f}{peak:>10.2f}{flag}")
    for label, lots in zip(traceability.LOOKUP_LABELS, built.recall_lots, strict=True):
        plan = traceability.query_plan(app, lots)
        reads, whole = traceability.plan_summary(plan)
        print(f"  plan of the {label}: {reads}" + (f"  <-- reads whole tables: {whole}" if whole else ""))
        if os.environ.get("BENCH_EXPLAIN"):
            print("\n".join(f"    {line}" for line in plan))
    seconds = time_import(app)
    flag = "" if seconds <= IMPORT_TARGET_S else "  <-- over target"
    ok = ok and not flag
    print(f"  import of {IMPORT_ROWS} rows, checked and applied: {seconds:.1f}s{flag}")
    with app.app_context():
        db.engine.dispose()
    return ok


def time_import(app) -> float:
    """The export's first IMPORT_ROWS rows with every price and stock changed, checked and then
    applied by the worker's own steps (the file's size is what a desk would upload)."""
    import csv
    import io

    with app.app_context():
        staff = db.session.scalar(db.select(User).where(User.email == "desk@supplier.example"))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        price, stock = COLUMNS.index("price"), COLUMNS.index("stock")
        for n, row in enumerate(export_rows()):
            if n == IMPORT_ROWS:
                break
            row[price] = f"{float(row[price]) + 1:.2f}"
            row[stock] = int(row[stock]) + 5
            writer.writerow(row)
        start = time.perf_counter()
        job = import_jobs.start(staff, out.getvalue().encode(), "bench.csv")
        import_jobs.run_next()  # check
        db.session.expire_all()
        checked = db.session.get(import_jobs.ImportJob, job.id)
        assert checked.applicable, checked.report.get("rejected", [])[:3]
        import_jobs.request_apply(staff, checked)
        import_jobs.run_next()  # apply
        db.session.expire_all()
        done = db.session.get(import_jobs.ImportJob, job.id)
        assert done.status == import_jobs.ImportStatus.APPLIED, done.error
        return time.perf_counter() - start


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
    targets = (
        f"p95 <= {TARGETS_MS['p95']} ms per catalogue page, {TARGETS_MS['dashboard']} ms for the dashboard, "
        f"{traceability.LOOKUP_TARGET_MS} ms for the recall look-up"
    )
    print(f"\ntarget: {targets} -> {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
