"""Static files by fingerprint, cached for a year; responses compressed for browsers that accept
it."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli
import pytest
from flask import url_for

from shop.assets import IMMUTABLE

STATIC = Path(__file__).resolve().parents[2] / "static"


def static_links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_every_static_file_a_page_names_carries_its_content_hash(client):
    links = static_links(client.get("/login").get_data(as_text=True))
    assert any("css/shop.css" in link for link in links)
    for link in links:
        path, version = re.fullmatch(r"/static/([^?]+)\?v=([0-9a-f]{12})", link).groups()
        assert version == hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12]


def test_a_fingerprinted_file_is_cached_for_a_year_and_an_old_address_is_not(client):
    link = next(link for link in static_links(client.get("/login").get_data(as_text=True)) if "shop.css" in link)
    current = client.get(link)
    assert current.status_code == 200 and current.headers["Cache-Control"] == IMMUTABLE
    assert "immutable" not in client.get("/static/css/shop.css?v=000000000000").headers.get("Cache-Control", "")
    assert "immutable" not in client.get("/static/css/shop.css").headers.get("Cache-Control", "")


def test_a_changed_file_gets_a_new_address(app, tmp_path, monkeypatch):
    (tmp_path / "site.css").write_text("body { color: red; }")
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    with app.test_request_context():
        before = url_for("static", filename="site.css")
        (tmp_path / "site.css").write_text("body { color: blue; }  ")
        after = url_for("static", filename="site.css")
        missing = url_for("static", filename="../../etc/passwd")
    assert before != after and before.startswith("/static/site.css?v=")
    assert "v=" not in missing


@pytest.mark.parametrize(
    ("accepted", "encoding", "decode"), [("gzip", "gzip", gzip.decompress), ("br, gzip", "br", brotli.decompress)]
)
def test_pages_and_styles_are_compressed_for_a_browser_that_accepts_it(client, accepted, encoding, decode):
    plain = client.get("/login")
    compressed = client.get("/login", headers={"Accept-Encoding": accepted})
    assert "Content-Encoding" not in plain.headers
    assert compressed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in compressed.headers["Vary"]
    assert len(compressed.data) < len(plain.data) / 2
    assert decode(compressed.data).decode().count("<form") == plain.get_data(as_text=True).count("<form")
    style = client.get("/static/css/shop.css", headers={"Accept-Encoding": accepted})
    assert style.headers["Content-Encoding"] == encoding
    assert decode(style.data) == (STATIC / "css/shop.css").read_bytes()
