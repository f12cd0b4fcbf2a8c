"""Catalogue files: the export (which round-trips), the import checked row by row before anything
is written, applied all or nothing by the worker, idempotent, and the stock ledger and orders as
files for the accounts. Every cell is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop import clock
from shop.access import Desk
from shop.catalogue import import_jobs
from shop.catalogue.import_jobs import ImportJob, ImportStatus
from shop.catalogue.models import Ingredient, Product, ProductStatus, Variant
from shop.catalogue.stock import StockMovement
from shop.core.audit import AuditEntry
from shop.extensions import db
from tests.factories import clinician_with_cart, make_product, make_staff, place_order
from tests.helpers import redirect_path, reload, stock_of, text


@pytest.fixture
def desk(signed_in):
    return signed_in(make_staff(desks=[Desk.CATALOGUE]))


def rows_of(response) -> list[dict[str, str]]:
    assert response.data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def as_file(rows: list[dict[str, str]], delimiter: str = ",", bom: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def upload(desk, data: bytes, name: str = "catalogue.csv"):
    response = desk.post("/staff/catalogue/import", {"file": (data, name)})
    assert response.status_code == 303, text(response)
    return db.session.get(ImportJob, int(redirect_path(response).rsplit("/", 1)[-1]))


def worker() -> None:
    """What the mail worker does each round, until nothing waits."""
    while import_jobs.run_next():
        pass
    db.session.expire_all()


def checked(desk, data: bytes) -> ImportJob:
    job = upload(desk, data)
    assert "Waiting to be checked" in text(desk.get(f"/staff/catalogue/import/{job.id}"))
    worker()
    return reload(ImportJob, job.id)


def applied(desk, job: ImportJob) -> ImportJob:
    response = desk.post(f"/staff/catalogue/import/{job.id}/apply")
    assert redirect_path(response) == f"/staff/catalogue/import/{job.id}"
    worker()
    return reload(ImportJob, job.id)


def _catalogue():
    make_product(name="Alpha Booster", slug="alpha-booster", sku="ALP-1", stock=10, breaks=((5, 9_000),))
    make_product(name="Beta Filler", slug="beta-filler", sku="BET-1", stock=3, description="=1+1 looks like a formula")
    db.session.add(Ingredient(slug="hyaluronic-acid", name="Hyaluronic acid"))
    db.session.commit()


def test_the_export_round_trips_and_neutralises_formulas(desk):
    _catalogue()
    exported = desk.get("/staff/catalogue.csv")
    assert exported.mimetype == "text/csv" and "attachment" in exported.headers["Content-Disposition"]
    rows = rows_of(exported)
    alpha = next(r for r in rows if r["sku"] == "ALP-1")
    assert (alpha["price"], alpha["volume_prices"], alpha["stock"], alpha["status"]) == (
        "100.00",
        "5:90.00",
        "10",
        "active",
    )
    assert next(r for r in rows if r["sku"] == "BET-1")["description"] == "'=1+1 looks like a formula"

    job = checked(desk, exported.data)
    assert job.report["counts"] == {"create": 0, "update": 0, "unchanged": 2, "rejected": 0}
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    job = applied(desk, job)
    assert job.status == ImportStatus.APPLIED
    assert reload(Product, db.session.scalar(select(Product.id).where(Product.slug == "beta-filler"))).description == (
        "=1+1 looks like a formula"
    )
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before + 1  # the import itself


BAD_ROWS = [
    ("category", "Unknown category “Perfumes”"),
    ("sku", "SKU NEW-0 is also on row 2."),
    ("gtin", "Not a valid GTIN"),
    ("volume_prices", "Each volume price must be lower"),
    ("stock", "Cannot be negative."),
    ("prescription_only", "Write yes or no."),
]


def _new_rows(exported) -> list[dict[str, str]]:
    template = dict(exported[0])
    rows = []
    for n in range(6):
        row = dict(template)
        row.update(
            product_slug=f"new-{n}",
            product_name=f"New product {n}",
            sku=f"NEW-{n}",
            gtin="",
            volume_prices="",
            stock="5",
            status="draft",
        )
        rows.append(row)
    rows[0]["category"] = "Perfumes"
    rows[1]["sku"] = "NEW-0"
    rows[2]["gtin"] = "4006381333932"
    rows[3]["volume_prices"] = "5:120.00"
    rows[4]["stock"] = "-3"
    rows[5]["prescription_only"] = "maybe"
    return rows


def test_a_file_with_errors_is_reported_row_by_row_and_changes_nothing(desk):
    _catalogue()
    exported = rows_of(desk.get("/staff/catalogue.csv"))
    products_before = db.session.scalar(select(func.count()).select_from(Product))

    job = checked(desk, as_file(_new_rows(exported)))

    assert job.status == ImportStatus.CHECKED and not job.applicable
    problems = [(o["number"], column, reason) for o in job.report["rejected"] for column, reason in o["problems"]]
    for number, (column, reason) in enumerate(BAD_ROWS, start=2):
        assert any(n == number and c == column and reason in r for n, c, r in problems), (number, column, problems)
    page = text(desk.get(f"/staff/catalogue/import/{job.id}"))
    assert "6 rejected" in page and "Unknown category “Perfumes”" in page and "Apply the import" not in page
    refused = desk.post(f"/staff/catalogue/import/{job.id}/apply")
    assert "cannot be applied" in text(desk.get(redirect_path(refused)))
    worker()
    assert db.session.scalar(select(func.count()).select_from(Product)) == products_before


def test_a_corrected_file_is_applied_all_at_once_and_a_second_time_changes_nothing(desk):
    _catalogue()
    exported = rows_of(desk.get("/staff/catalogue.csv"))
    rows = _new_rows(exported)
    rows[0]["category"], rows[1]["sku"], rows[2]["gtin"] = exported[0]["category"], "NEW-1", "4006381333931"
    rows[3]["volume_prices"], rows[4]["stock"], rows[5]["prescription_only"] = "5:90.00", "3", "yes"
    alpha = next(dict(r) for r in exported if r["sku"] == "ALP-1")
    alpha.update(price="105.00", stock="8", ingredients="Hyaluronic acid")
    data = as_file([*rows, alpha], delimiter=";")

    job = checked(desk, data)
    assert job.report["counts"] == {"create": 6, "update": 1, "unchanged": 0, "rejected": 0}, job.report
    job = applied(desk, job)

    assert job.status == ImportStatus.APPLIED, job.error
    assert "Applied: 6 created, 1 updated" in text(desk.get(f"/staff/catalogue/import/{job.id}"))
    created = db.session.scalar(select(Product).where(Product.slug == "new-5"))
    assert (created.status, created.prescription_only) == (ProductStatus.DRAFT, True)
    variant = db.session.scalar(select(Variant).where(Variant.sku == "ALP-1"))
    assert (variant.price_cents, variant.stock_on_hand) == (10_500, 8)
    assert [i.name for i in variant.product.ingredients] == ["Hyaluronic acid"]
    count = db.session.scalars(
        select(StockMovement).where(StockMovement.variant_id == variant.id, StockMovement.kind == "counted")
    ).one()
    assert (count.quantity, count.balance_after, count.reason) == (-2, 8, "CSV import catalogue.csv")
    assert stock_of("NEW-3") == 5
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "product.created"))
        == 6
    )

    again = checked(desk, data)
    assert again.report["counts"] == {"create": 0, "update": 0, "unchanged": 7, "rejected": 0}
    audit_rows = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert applied(desk, again).status == ImportStatus.APPLIED
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_rows + 1


def test_nothing_is_written_when_the_catalogue_changed_between_the_check_and_the_apply(desk):
    _catalogue()
    exported = rows_of(desk.get("/staff/catalogue.csv"))
    row = dict(exported[0])
    row.update(product_slug="gamma", product_name="Gamma", sku="GAM-1", gtin="", stock="4")
    job = checked(desk, as_file([row, {**row, "sku": "GAM-2"}]))
    assert job.applicable
    make_product(name="Taken meanwhile", sku="GAM-2")

    job = applied(desk, job)

    assert job.status == ImportStatus.CHECKED and not job.applicable
    assert "The catalogue changed since the check" in text(desk.get(f"/staff/catalogue/import/{job.id}"))
    assert db.session.scalar(select(Product).where(Product.slug == "gamma")) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("naïve".encode("latin-1") + b",x\n1,2\n", "The file is not UTF-8 text."),
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf", "The file is empty."),
    ],
)
def test_a_file_that_is_not_a_csv_is_refused_at_once(desk, data, message):
    response = desk.post("/staff/catalogue/import", {"file": (data, "bad.csv")})
    assert response.status_code == 422
    assert message in text(response)
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_unknown_or_missing_columns_are_named(desk):
    job = checked(desk, b"product_name,colour\nX,red\n")
    unknown, missing = job.report["file_problems"]
    assert unknown == "Unknown columns: colour. Use the columns of the export."
    assert missing.startswith("Missing columns: product_slug, brand, category, status,")
    assert "Unknown columns: colour" in text(desk.get(f"/staff/catalogue/import/{job.id}"))


def test_the_progress_is_there_for_the_page_to_follow(desk):
    _catalogue()
    job = upload(desk, desk.get("/staff/catalogue.csv").data)
    progress = desk.get(f"/staff/catalogue/import/{job.id}/progress").get_json()
    assert progress == {"status": "queued", "label": "Waiting to be checked", "percent": 0, "working": True}
    worker()
    assert desk.get(f"/staff/catalogue/import/{job.id}/progress").get_json()["working"] is False
    assert desk.get("/staff/catalogue/import/999999/progress").status_code == 404


def test_a_job_left_by_a_dead_worker_is_taken_up_again(desk, app):
    _catalogue()
    job = upload(desk, desk.get("/staff/catalogue.csv").data)
    stuck = reload(ImportJob, job.id)
    stuck.status, stuck.updated_at = ImportStatus.CHECKING, clock.now() - timedelta(hours=1)
    db.session.commit()
    worker()
    assert reload(ImportJob, job.id).status == ImportStatus.CHECKED


def test_the_stock_ledger_and_the_orders_come_as_files_for_a_period(signed_in, desk):
    _catalogue()
    place_order(clinician_with_cart(("ALP-1", 2)))
    ledger = rows_of(desk.get("/staff/catalogue/stock.csv?since=2000-01-01&until=2999-12-31"))
    assert [(r["sku"], r["movement"], r["change"]) for r in ledger if r["sku"] == "ALP-1"] == [
        ("ALP-1", "Opening balance", "10"),
        ("ALP-1", "Reserved by an order", "-2"),
    ]
    assert rows_of(desk.get("/staff/catalogue/stock.csv?since=2999-01-01")) == []
    bad = desk.get("/staff/catalogue/stock.csv?since=yesterday")
    assert "Enter the date as YYYY-MM-DD." in text(desk.get(redirect_path(bad)))

    accounts = signed_in(make_staff(desks=[Desk.ORDERS]))
    [line] = rows_of(accounts.get("/staff/orders.csv?since=2000-01-01"))
    assert (line["sku"], line["quantity"], line["unit_price"]) == ("ALP-1", "2", "100.00")
    assert line["placed"][:4].isdigit() and line["placed"][4] == "-"
    assert accounts.get("/staff/catalogue.csv").status_code == 403
    assert desk.get("/staff/orders.csv").status_code == 403


def _exported(desk) -> list[dict[str, str]]:
    return rows_of(desk.get("/staff/catalogue.csv"))


def test_a_file_without_a_column_is_refused_rather_than_clearing_that_column(desk):
    _catalogue()
    rows = [{k: v for k, v in row.items() if k != "stock"} for row in _exported(desk)]
    job = checked(desk, as_file(rows))
    assert job.report["file_problems"] == ["Missing columns: stock."] and not job.applicable


def test_an_empty_stock_cell_keeps_the_stock_and_a_backward_status_is_refused(desk):
    _catalogue()
    rows = _exported(desk)
    for row in rows:
        row["stock"] = ""
    rows[0]["price"] = "101.00"
    job = applied(desk, checked(desk, as_file(rows)))
    assert job.status == ImportStatus.APPLIED
    assert (stock_of("ALP-1"), stock_of("BET-1")) == (10, 3)

    rows[0]["status"] = "draft"
    backwards = checked(desk, as_file(rows))
    assert backwards.report["rejected"][0]["problems"] == [["status", "A active product cannot become draft."]]


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("stock", "²", "Give a whole number."),
        ("stock", "--5", "Give a whole number."),
        ("stock", "-5", "Cannot be negative."),
        ("price", "1e999999", "is not an amount such as 120.00"),
        ("price", "120.005", "in cents at most"),
        ("price", "999999999", "from 0 to 10,000,000"),
        ("volume_prices", "²:1.00", "Write each volume price as quantity:price"),
        ("reorder_level", "1.5", "Give a whole number."),
        ("product_slug", "Not A Slug", "Use lower-case letters"),
        ("gtin", "12345", "Not a valid GTIN"),
    ],
)
def test_odd_cells_are_rejected_with_a_reason_never_a_crash(desk, column, value, reason):
    _catalogue()
    rows = _exported(desk)
    rows[0][column] = value
    job = checked(desk, as_file(rows))
    assert job.status == ImportStatus.CHECKED
    [outcome] = job.report["rejected"]
    assert any(c == column and reason in r for c, r in outcome["problems"]), outcome


def test_a_gtin_whose_leading_zeros_a_spreadsheet_dropped_is_the_same_gtin(desk):
    _catalogue()
    rows = _exported(desk)
    rows[0]["gtin"] = "4006381333931"
    applied(desk, checked(desk, as_file(rows)))
    rows[0]["gtin"] = "04006381333931"
    assert checked(desk, as_file(rows)).report["counts"]["unchanged"] == 2


def test_a_failure_while_applying_leaves_nothing_half_written(desk, app):
    _catalogue()
    rows = _exported(desk)
    for row in rows:
        row["price"], row["stock"] = "120.00", "50"
    job = checked(desk, as_file(rows))
    # The database refuses the ledger's rows of this file, as a full disk would: a real failure
    # after the prices are written.
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        db.session.execute(
            db.text(
                "CREATE FUNCTION refuse_import() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ "
                "LANGUAGE plpgsql"
            )
        )
        db.session.execute(
            db.text(
                "CREATE TRIGGER refuse_import BEFORE INSERT ON stock_movements FOR EACH ROW "
                "WHEN (NEW.reason = 'CSV import catalogue.csv') EXECUTE FUNCTION refuse_import()"
            )
        )
    else:
        db.session.execute(
            db.text(
                "CREATE TRIGGER refuse_import BEFORE INSERT ON stock_movements "
                "WHEN NEW.reason = 'CSV import catalogue.csv' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        )
    db.session.commit()
    try:
        job = applied(desk, job)
    finally:
        db.session.execute(db.text("DROP TRIGGER refuse_import" + (" ON stock_movements" if postgres else "")))
        if postgres:
            db.session.execute(db.text("DROP FUNCTION refuse_import()"))
        db.session.commit()
    assert job.status == ImportStatus.FAILED and "Nothing was changed" in job.error
    prices = db.session.scalars(select(Variant.price_cents).order_by(Variant.sku)).all()
    assert prices == [10_000, 10_000] and (stock_of("ALP-1"), stock_of("BET-1")) == (10, 3)
    assert "Nothing was changed" in text(desk.get(f"/staff/catalogue/import/{job.id}"))


def test_the_import_is_recorded_as_the_act_of_whoever_applied_it(desk, signed_in):
    _catalogue()
    job = checked(desk, _exported_file(desk))
    colleague = make_staff(full_name="Robin Applier", desks=[Desk.CATALOGUE])
    applied(signed_in(colleague), job)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "catalogue.import_applied")).one()
    assert entry.actor_id == colleague.id


def _exported_file(desk) -> bytes:
    return desk.get("/staff/catalogue.csv").data


def test_a_job_a_live_worker_is_checking_is_not_taken_by_another(desk):
    _catalogue()
    job = upload(desk, _exported_file(desk))
    busy = reload(ImportJob, job.id)
    busy.status, busy.updated_at = ImportStatus.CHECKING, clock.now()
    db.session.commit()
    assert import_jobs.run_next() is False


def test_dates_and_filters_out_of_any_range_are_messages(desk):
    for url in ("/staff/catalogue/stock.csv?until=9999-12-31", "/staff/catalogue/stock.csv?since=0001-01-01"):
        response = desk.get(url)
        assert "Enter the date as YYYY-MM-DD." in text(desk.get(redirect_path(response)))
    assert desk.get("/staff/catalogue?brand=²&category=¹").status_code == 200
    assert desk.get("/staff/catalogue?q=¹²³").status_code == 200
    page = desk.get("/staff/catalogue/low-stock").get_data(as_text=True)
    assert "<title>Low stock · " in page


def test_a_stray_quote_in_a_large_file_is_a_message(desk):
    data = b"product_slug,product_name\n" + b'"' + b"x" * 200_000 + b"\n"
    response = desk.post("/staff/catalogue/import", {"file": (data, "broken.csv")})
    assert response.status_code == 422 and "not a CSV" in text(response)
