"""Take screenshots of the main pages of a running shop (for the README and for review).

python -m tests.screenshots --base http://127.0.0.1:5000 --out docs/screenshots
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

from shop.demo import CLINICIAN, STAFF
from tests.browser_support import CHROMIUM_ARGS, chromium_path

PAGES = [
    ("home", None, "/"),
    ("register", None, "/register"),
    ("catalogue", CLINICIAN, "/catalogue"),
    ("catalogue-filtered", CLINICIAN, "/catalogue?category=skin-boosters&lidocaine=1"),
    ("product", CLINICIAN, "/catalogue/restylane-skinboosters-vital"),
    ("account", CLINICIAN, "/account"),
    ("staff-dashboard", STAFF, "/staff"),
    ("staff-applications", STAFF, "/staff/applications?status=all"),
    ("staff-application", STAFF, "/staff/applications/2"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        for name, login, path in PAGES:
            if args.only and args.only not in name:
                continue
            context = browser.new_context(viewport={"width": args.width, "height": 900})
            page = context.new_page()
            if login:
                page.goto(args.base + "/login")
                page.fill("#email", login[0])
                page.fill("#password", login[1])
                page.click("button[type=submit]")
            page.goto(args.base + path)
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
