"""Documents on the supplier's letterhead: an A4 page in the vendored DejaVu fonts (shop/core/fonts,
so every character of a product or practice name prints), the supplier's name, address and
contact lines at the top of every page, and the document's reference and page number at the
foot. Quotes, invoices, credit notes and packing slips use it."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from flask import send_file
from fpdf import FPDF
from fpdf.fonts import FontFace

from shop.core.letterhead import letterhead_lines, shop_details

FONTS = Path(__file__).resolve().parent / "fonts"


class LetterheadPDF(FPDF):
    def __init__(self, letterhead: dict[str, str], contacts: list[str], reference: str):
        """`letterhead` is `shop_details()`, `contacts` its `letterhead_lines()`; `reference`
        names the document in the footer ("Q-100001 v2")."""
        super().__init__(format="A4")
        self.letterhead = letterhead
        self.contacts = contacts
        self.reference = reference
        self.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=22)
        self.set_margins(16, 16, 16)
        self.alias_nb_pages()

    def header(self) -> None:
        self.set_font("DejaVu", "B", 15)
        self.set_text_color(11, 79, 108)
        self.cell(0, 8, self.letterhead["name"], new_x="LMARGIN", new_y="NEXT")
        self.set_font("DejaVu", "", 8.5)
        self.set_text_color(60, 72, 82)
        self.multi_cell(0, 4.2, self.letterhead["address"], new_x="LMARGIN", new_y="NEXT")
        for line in self.contacts:
            self.multi_cell(0, 4.2, line, new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(11, 79, 108)
        self.line(self.l_margin, self.get_y() + 2, self.w - self.r_margin, self.get_y() + 2)
        self.ln(6)
        self.set_text_color(27, 39, 51)

    def lines_table(
        self, headings: tuple[str, ...], rows: list[tuple[str, ...]], align: tuple[str, ...], wrap: int = 1
    ) -> None:
        """A document's table of lines: a shaded heading row, then one row per line, column
        `wrap` (the product) taking the width the others leave (`column_widths`)."""
        widths = column_widths(self, headings, rows, wrap)
        self.set_font("DejaVu", "", 8.5)
        heading = FontFace(emphasis="BOLD", fill_color=(227, 239, 245))
        with self.table(col_widths=widths, text_align=align, headings_style=heading, line_height=5) as table:
            table.row(headings)
            for row in rows:
                table.row(row)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(90, 100, 110)
        self.cell(0, 5, f"{self.reference} · page {self.page_no()} of {{nb}}", align="C")


def letterhead_document(reference: str) -> LetterheadPDF:
    """A new document on the supplier's letterhead as configured now, its first page begun."""
    letterhead = shop_details()
    pdf = LetterheadPDF(letterhead, letterhead_lines(letterhead), reference)
    pdf.add_page()
    return pdf


def pdf_response(data: bytes, filename: str):
    """A PDF as a download response."""
    return send_file(BytesIO(data), mimetype="application/pdf", download_name=filename)


NAME_MIN_WIDTH = 45.0
CELL_SLACK = 1.5  # mm beyond the cell margins, so a value never wraps inside its cell


def column_widths(
    pdf: FPDF, headings: tuple[str, ...], rows: list[tuple[str, ...]], wrap: int = 1
) -> tuple[float, ...]:
    """Every column but column `wrap` (the product's) as wide as its widest value, so SKUs and
    amounts never wrap; column `wrap` takes the rest of the page and wraps if it must."""
    widths = []
    for index, heading in enumerate(headings):
        pdf.set_font("DejaVu", "B", 8.5)
        widest = pdf.get_string_width(heading)
        pdf.set_font("DejaVu", "", 8.5)
        widest = max([widest, *(pdf.get_string_width(row[index]) for row in rows)])
        widths.append(widest + 2 * pdf.c_margin + CELL_SLACK)
    others = sum(widths) - widths[wrap]
    widths[wrap] = max(pdf.epw - others, NAME_MIN_WIDTH)
    return tuple(widths)
