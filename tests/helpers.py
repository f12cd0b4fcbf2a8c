"""A test client that behaves like a person's browser: it fetches a CSRF token the way a page
would, posts forms, and reads links and messages out of the pages. Also what tests read back
from the database and the upload folder to see what an action kept."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import unescape
from io import BytesIO
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from shop.extensions import db

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
FLASH = re.compile(r'<div class="flash flash-(\w+)"[^>]*>(.*?)</div>', re.S)


class WebClient:
    def __init__(self, client: FlaskClient):
        self.raw = client

    def get(self, url: str, **kwargs) -> TestResponse:
        return _read(self.raw.get(url, **kwargs))

    def csrf_token(self) -> str:
        page = self.raw.get("/")
        match = CSRF_META.search(page.get_data(as_text=True))
        assert match, "the front page carries no CSRF token"
        return match.group(1)

    def post(self, url: str, data: dict | None = None, *, csrf: bool = True, **kwargs) -> TestResponse:
        """POST a form. Values given as (bytes or stream, filename) tuples are uploaded as files,
        multipart-encoded in memory (the test client would spool a large body to a temporary
        file that it never closes)."""
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf_token()
        if any(isinstance(value, tuple) for value in data.values()):
            kwargs.pop("content_type", None)
            boundary, body = encode_multipart({name: _as_file(value) for name, value in data.items()})
            return _read(
                self.raw.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", **kwargs)
            )
        return _read(self.raw.post(url, data=data, **kwargs))

    def login(self, email: str, password: str) -> TestResponse:
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 303, f"login of {email} failed: {response.status_code}"
        return response

    def logout(self) -> TestResponse:
        return self.post("/logout")


def _as_file(value):
    """(content, filename) or (content, filename, content type) as an uploaded file."""
    if not isinstance(value, tuple):
        return value
    content, filename, *content_type = value
    stream = BytesIO(content) if isinstance(content, bytes) else content
    return FileStorage(stream, filename=filename, content_type=content_type[0] if content_type else None)


def _read(response: TestResponse) -> TestResponse:
    """Buffer the body and close the response, as a browser would (file downloads included)."""
    response.get_data()
    response.close()
    return response


def text(response: TestResponse) -> str:
    """The visible text of a page, tags removed and whitespace collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def field_error(response: TestResponse, field_id: str) -> str:
    """The error message shown next to a form field."""
    html = response.get_data(as_text=True)
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', html, flags=re.S)
    return unescape(match.group(1)).strip() if match else ""


def redirect_path(response: TestResponse) -> str:
    location = response.headers.get("Location", "")
    return re.sub(r"^https?://[^/]+", "", location)


def flashes(response: TestResponse) -> list[tuple[str, str]]:
    """The flash messages on a page as (kind, message) pairs, whitespace collapsed."""
    return [
        (kind, re.sub(r"\s+", " ", message).strip()) for kind, message in FLASH.findall(response.get_data(as_text=True))
    ]


# --- what the database and the upload folder hold --------------------------------------


def reload(model, ident):
    """The record as the database holds it now, not as this session last saw it."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(model, ident)


def row_count(model) -> int:
    """How many rows a model's (or a Table's) table holds."""
    return db.session.scalar(select(func.count()).select_from(model))


def uploaded_files(config: Mapping) -> list[str]:
    """The files in the app's UPLOAD_FOLDER, as sorted paths relative to it."""
    folder = Path(config["UPLOAD_FOLDER"])
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def stored(config: Mapping) -> dict:
    """How many rows every table holds, and which files the upload folder holds."""
    db.session.rollback()
    counts = {table.name: row_count(table) for table in db.metadata.sorted_tables}
    return {**counts, "files": uploaded_files(config)}
