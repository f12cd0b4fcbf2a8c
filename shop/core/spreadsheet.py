"""CSV files as a spreadsheet opens them: UTF-8 with a byte-order mark, ISO dates, amounts in
major units, and no cell that could run as a formula. Reading takes what a spreadsheet saves:
UTF-8 with or without the mark, commas or semicolons."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from flask import Response

from shop import clock

# A text cell starting with one of these would run as a formula: a quote mark in front makes it text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def cell(value) -> str:
    """One cell: numbers as they are, text neutralised if a spreadsheet would run it."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def uncell(text: str) -> str:
    """A cell as `cell` wrote it, read back (the quote mark in front of a formula start goes)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def amount(cents: int | None) -> str:
    """Minor units as major units, "1234.50"."""
    return "" if cents is None else f"{Decimal(cents) / 100:.2f}"


def csv_download(name: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """A CSV attachment named `name`-<today>.csv."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return Response(
        out.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-{clock.today().isoformat()}.csv"'},
    )


def read_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of a CSV file; ValueError when it is not UTF-8 CSV text or has no header."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The file is not UTF-8 text. Save it from the spreadsheet as “CSV UTF-8”.") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise ValueError(f"The file is not a CSV a spreadsheet saves: {error}.") from None
    rows = [row for row in rows if any(value.strip() for value in row)]
    if not rows:
        raise ValueError("The file is empty.")
    return [name.strip() for name in rows[0]], [[uncell(value) for value in row] for row in rows[1:]]
