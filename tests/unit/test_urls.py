"""Links the shop builds: `safe_next` lets a login return only to a path on this site, and
`external_url` makes absolute links for email."""

from __future__ import annotations

import pytest

from shop.urls import external_url, safe_next

LOCAL_PATHS = [
    "/catalogue",
    "/catalogue?q=vital&page=2",
    "/catalogue/restylane-skinboosters-vital",
    "/account/password#top",
    "/",
]

FOREIGN_OR_BROKEN = [
    "https://evil.example",
    "https://evil.example/catalogue",
    "http:/evil.example",
    "//evil.example",
    "//evil.example/catalogue",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "catalogue",
    "evil.example",
    "/catalogue\r\nSet-Cookie: session=stolen",
    "/catalogue\nLocation: https://evil.example",
    "/\t/evil.example",
    "/catalogue\x00",
    "",
    None,
    "/" + "a" * 2001,
]


@pytest.mark.parametrize("target", LOCAL_PATHS)
def test_a_path_on_this_site_is_a_safe_next_target(target):
    assert safe_next(target) == target


@pytest.mark.parametrize("target", FOREIGN_OR_BROKEN)
def test_another_site_a_script_or_a_header_injection_is_not_a_next_target(target):
    assert safe_next(target) is None


def test_surrounding_space_around_a_local_path_is_ignored():
    assert safe_next("  /catalogue ") == "/catalogue"


def test_an_email_link_is_absolute_under_the_configured_base_url(ctx):
    link = external_url("auth.set_password", token="abc.def")
    assert link == f"{ctx.config['SHOP_BASE_URL']}/password/reset/abc.def"


def test_an_email_link_follows_a_base_url_with_a_path_and_https(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "SHOP_BASE_URL", "https://shop.example.com/b2b")
    assert external_url("auth.login") == "https://shop.example.com/b2b/login"
