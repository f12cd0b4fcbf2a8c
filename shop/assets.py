"""Static files by fingerprint: every `url_for('static', filename=...)` carries the file's content
hash (`?v=...`), and a request for the current content is cached for a year as immutable; a
changed file gets a new address, so a browser never keeps a stale stylesheet or script."""

from __future__ import annotations

import hashlib
import os

from flask import Flask, request
from werkzeug.security import safe_join

YEAR_SECONDS = 365 * 24 * 60 * 60
IMMUTABLE = f"public, max-age={YEAR_SECONDS}, immutable"


def register(app: Flask) -> None:
    known: dict[tuple, str | None] = {}

    def fingerprint(filename: str) -> str | None:
        """The first 12 hex digits of the file's SHA-256 (None for no such file). Read once per
        file; in debug mode (files edited while the shop runs) again whenever the file changes."""
        path = safe_join(app.static_folder, filename)
        if path is None:
            return None
        key: tuple = (path,)
        if app.debug or app.testing:
            try:
                stat = os.stat(path)
            except OSError:
                return None
            key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in known:
            known[key] = _digest(path)
        return known[key]

    @app.url_defaults
    def _add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = fingerprint(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def _cache_fingerprinted(response):
        if request.endpoint == "static" and response.status_code == 200:
            # Read into memory (the files are small) so the compression that follows works on
            # the bytes, and the file is closed with the response.
            response.direct_passthrough = False
            response.make_sequence()
        if (
            request.endpoint == "static"
            and response.status_code in (200, 304)
            and request.args.get("v")
            and request.args.get("v") == fingerprint((request.view_args or {}).get("filename", ""))
        ):
            response.headers["Cache-Control"] = IMMUTABLE
            response.headers.pop("Expires", None)
        return response


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as file:
            return hashlib.sha256(file.read()).hexdigest()[:12]
    except OSError:  # no such file, or a folder
        return None
