"""Licence documents on disk: checked by content, stored outside `static/` under a generated
name, and removed again if the database change that refers to them does not commit."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app
from werkzeug.datastructures import FileStorage

from shop.errors import InvalidDocument

ACCEPTED_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
ACCEPTED_EXTENSIONS = {"pdf", "jpg", "jpeg", "png"}
ACCEPTED_WORDS = "a PDF, JPEG or PNG file"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    original_filename: str
    content_type: str
    size_bytes: int
    sha256: str


def upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def base_name(filename: str) -> str:
    """The file's own name as the person's computer called it: no folders, and no control
    characters (a NUL byte would make PostgreSQL refuse the row)."""
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return _CONTROL.sub("", name).strip()


def check_document(upload: FileStorage | None) -> tuple[bytes, str]:
    """The file's bytes and its real content type, or InvalidDocument saying what is wrong."""
    if upload is None or not upload.filename:
        raise InvalidDocument("Attach a scan of your licence.", field="licence_document")
    name = base_name(upload.filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ACCEPTED_EXTENSIONS:
        raise InvalidDocument(f"Upload {ACCEPTED_WORDS}.", field="licence_document")
    limit = current_app.config["LICENCE_DOCUMENT_MAX_BYTES"]
    data = upload.stream.read(limit + 1)
    if not data:
        raise InvalidDocument("The file is empty.", field="licence_document")
    if len(data) > limit:
        raise InvalidDocument(
            f"The file is larger than {limit // (1024 * 1024)} MB. Scan at a lower resolution or as a PDF.",
            field="licence_document",
        )
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ACCEPTED_TYPES:
        raise InvalidDocument(
            f"This file is not really {ACCEPTED_WORDS}: its content does not match its name.",
            field="licence_document",
        )
    return data, kind.mime


def store_document(upload: FileStorage | None) -> StoredFile:
    data, content_type = check_document(upload)
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{uuid.uuid4().hex}.{ACCEPTED_TYPES[content_type]}"
    path = folder / stored_name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    original = base_name(upload.filename or "")
    if len(original) > 255:  # the column's width; keep the extension
        stem, _, extension = original.rpartition(".")
        original = f"{stem[: 254 - len(extension)]}.{extension}"
    return StoredFile(
        stored_name=stored_name,
        original_filename=original,
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


@contextmanager
def stored_document(upload: FileStorage | None) -> Iterator[StoredFile]:
    """Store the upload for the block that records it; if the block raises (its row is never
    committed), the file is removed again."""
    stored = store_document(upload)
    try:
        yield stored
    except BaseException:
        path_of(stored.stored_name).unlink(missing_ok=True)
        raise


def path_of(stored_name: str) -> Path:
    return upload_folder() / stored_name
