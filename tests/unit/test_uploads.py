"""Licence documents: check_document judges a file by its content (PDF, JPEG or PNG, at most
LICENCE_DOCUMENT_MAX_BYTES), and store_document / stored_document keep it under a generated name in
UPLOAD_FOLDER."""

from __future__ import annotations

import hashlib
import re
import stat
from io import BytesIO
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from shop.accounts.documents import check_document, store_document, stored_document
from shop.errors import InvalidDocument
from tests.factories import ELF_BYTES, EXE_BYTES, JPEG_BYTES, PNG_BYTES, pdf_bytes

MB = 1024 * 1024
PDF = pdf_bytes("Dr Niamh Walsh", "MCI-402211")
HTML = b"<!DOCTYPE html><html><head><title>licence</title></head><body>x</body></html>"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40


def file(data: bytes, filename: str | None = "licence.pdf", content_type: str | None = None) -> FileStorage:
    return FileStorage(BytesIO(data), filename=filename, content_type=content_type)


def refusal(upload) -> str:
    with pytest.raises(InvalidDocument) as refused:
        check_document(upload)
    assert refused.value.field == "licence_document"
    return refused.value.message


@pytest.mark.parametrize(
    ("data", "filename", "mime"),
    [
        (PDF, "licence.pdf", "application/pdf"),
        (JPEG_BYTES, "licence.jpg", "image/jpeg"),
        (JPEG_BYTES, "licence.jpeg", "image/jpeg"),
        (PNG_BYTES, "licence.png", "image/png"),
        (PDF, "LICENCE.PDF", "application/pdf"),
        (PDF, "C:\\Users\\niamh\\Scans\\licence.pdf", "application/pdf"),
        (PDF, "scans/2026/licence.pdf", "application/pdf"),
        (PDF, "licence.exe.pdf", "application/pdf"),
        (PDF, "licença-東京.pdf", "application/pdf"),
    ],
    ids=["pdf", "jpg", "jpeg", "png", "upper-case", "windows-path", "posix-path", "exe-then-pdf", "unicode-name"],
)
def test_a_real_pdf_jpeg_or_png_is_accepted_with_its_bytes_and_type(data, filename, mime):
    assert check_document(file(data, filename)) == (data, mime)


@pytest.mark.parametrize(
    ("data", "filename", "mime"),
    [
        (PNG_BYTES, "licence.pdf", "image/png"),
        (PDF, "licence.jpg", "application/pdf"),
        (JPEG_BYTES, "licence.png", "image/jpeg"),
    ],
)
def test_the_type_is_read_from_the_content_not_from_the_name_or_the_browser(data, filename, mime):
    assert check_document(file(data, filename, content_type="text/html"))[1] == mime


@pytest.mark.parametrize("upload", [None, file(PDF, None), file(PDF, "")], ids=["none", "no-name", "empty-name"])
def test_no_file_at_all_asks_for_a_scan(upload):
    assert refusal(upload) == "Attach a scan of your licence."


@pytest.mark.parametrize(
    "filename",
    [
        "licence.txt",
        "licence.exe",
        "licence.pdf.exe",
        "licence.html",
        "licence.gif",
        "licence",
        "licence.",
        ".pdf.",
        "licence.\x00",
    ],
)
def test_a_name_without_an_accepted_extension_is_refused_whatever_the_content(filename):
    assert refusal(file(PDF, filename)) == "Upload a PDF, JPEG or PNG file."


@pytest.mark.parametrize("filename", ["licence.pdf", "licence.png", "licence.jpg"])
def test_an_empty_file_is_refused(filename):
    assert refusal(file(b"", filename)) == "The file is empty."


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (HTML, "licence.pdf"),
        (b"<script>alert(1)</script>", "licence.png"),
        (EXE_BYTES, "licence.png"),
        (EXE_BYTES, "licence.pdf"),
        (ELF_BYTES, "licence.png"),
        (ELF_BYTES, "licence.jpg"),
        (GIF, "licence.png"),
        (ZIP, "licence.pdf"),
        (b"Licence MCI-402211, expires 2027", "licence.pdf"),
        (b"\x00" * 512, "licence.pdf"),
        (PDF[4:], "licence.pdf"),
    ],
    ids=[
        "html-pdf",
        "script-png",
        "windows-exe-png",
        "windows-exe-pdf",
        "elf-png",
        "elf-jpg",
        "gif-png",
        "zip-pdf",
        "text-pdf",
        "zeros",
        "pdf-without-header",
    ],
)
def test_a_file_whose_content_is_not_what_its_name_says_is_refused(data, filename):
    assert "not really a PDF, JPEG or PNG file" in refusal(file(data, filename))


def test_a_file_of_exactly_10_mb_is_accepted():
    data = PDF + b"0" * (10 * MB - len(PDF))
    assert check_document(file(data)) == (data, "application/pdf")


def test_a_file_one_byte_over_10_mb_is_refused_with_the_limit_named():
    message = refusal(file(PDF + b"0" * (10 * MB - len(PDF) + 1)))
    assert "larger than 10 MB" in message


def test_the_size_limit_comes_from_configuration(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "LICENCE_DOCUMENT_MAX_BYTES", 2 * MB)
    assert "larger than 2 MB" in refusal(file(PDF + b"0" * (2 * MB)))
    assert check_document(file(PDF + b"0" * (MB)))[1] == "application/pdf"


# --- storing and discarding ----------------------------------------------------------------


def test_a_stored_document_gets_a_generated_name_in_the_upload_folder(ctx):
    stored = store_document(file(PNG_BYTES, "C:\\scans\\my licence.png"))

    assert re.fullmatch(r"[0-9a-f]{32}\.png", stored.stored_name)
    assert stored.original_filename == "my licence.png"
    assert stored.content_type == "image/png"
    assert stored.size_bytes == len(PNG_BYTES)
    assert stored.sha256 == hashlib.sha256(PNG_BYTES).hexdigest()
    path = Path(ctx.config["UPLOAD_FOLDER"]) / stored.stored_name
    assert path.read_bytes() == PNG_BYTES
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, "other users of the server may not read it"


def test_the_extension_on_disk_follows_the_content():
    assert store_document(file(JPEG_BYTES, "licence.png")).stored_name.endswith(".jpg")


def test_two_uploads_of_the_same_file_never_share_a_name():
    first, second = store_document(file(PDF)), store_document(file(PDF))
    assert first.stored_name != second.stored_name
    assert first.sha256 == second.sha256


def test_control_characters_are_dropped_from_the_recorded_name():
    assert store_document(file(PDF, "lic\x00ence\x1b.pdf")).original_filename == "licence.pdf"


def test_a_very_long_name_is_shortened_to_fit_and_keeps_its_extension():
    stored = store_document(file(PDF, "a" * 10_000 + ".pdf"))
    assert len(stored.original_filename) == 255
    assert stored.original_filename.endswith("a.pdf")


def test_a_refused_document_writes_nothing(ctx):
    with pytest.raises(InvalidDocument):
        store_document(file(HTML, "licence.pdf"))
    assert list(Path(ctx.config["UPLOAD_FOLDER"]).iterdir()) == []


def test_a_stored_file_is_removed_again_when_what_records_it_fails_and_kept_when_it_succeeds(ctx):
    with pytest.raises(RuntimeError), stored_document(file(PDF)) as stored:
        path = Path(ctx.config["UPLOAD_FOLDER"]) / stored.stored_name
        assert path.exists()
        raise RuntimeError("the row was not committed")
    assert not path.exists()
    with stored_document(file(PDF)) as kept:
        pass
    assert (Path(ctx.config["UPLOAD_FOLDER"]) / kept.stored_name).exists()


def test_a_failure_after_the_file_is_already_gone_still_reports_the_failure(ctx):
    with pytest.raises(RuntimeError), stored_document(file(PDF)) as stored:
        (Path(ctx.config["UPLOAD_FOLDER"]) / stored.stored_name).unlink()
        raise RuntimeError("the row was not committed")


def test_the_default_upload_folder_is_outside_static():
    from config import BASE_DIR, Config

    assert not Path(Config.UPLOAD_FOLDER).resolve().is_relative_to((BASE_DIR / "static").resolve())
