"""A test client that behaves like a person's browser: it fetches a CSRF token the way a page
would, posts forms, and reads links and messages out of the pages."""

from __future__ import annotations

import re
from html import unescape
from io import BytesIO

from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


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
    if not isinstance(value, tuple):
        return value
    content, filename = value[0], value[1]
    stream = BytesIO(content) if isinstance(content, bytes) else content
    return FileStorage(stream, filename=filename)


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
