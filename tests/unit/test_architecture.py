"""The shape of the code, checked: the parts of the business depend one way (import-linter's
contracts in pyproject.toml), no part reaches into another's private names, pages never commit
or roll back (the services' unit of work does), no part hides an import inside a function to
dodge a cycle, and no module outgrows what a reader can hold."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from shop.ordering.signals import order_lapsed_unpaid
from shop.payments.webhook import checkout_session_event

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "shop"
DOMAINS = ("accounts", "backoffice", "cart", "catalogue", "core", "ordering", "payments", "quoting")
MAX_LINES = 300
DATA_MODULES = {"shop/demo/catalogue.py"}  # the demo catalogue is data, not code


def _modules() -> list[Path]:
    return sorted(SHOP.rglob("*.py"))


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _domain(path: Path) -> str | None:
    parts = path.relative_to(SHOP).parts
    return parts[0] if len(parts) > 1 and parts[0] in DOMAINS else None


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def test_the_parts_of_the_business_depend_one_way():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_part_imports_another_parts_private_names():
    offences = []
    for path in _modules():
        own = _domain(path)
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("shop."):
                theirs = node.module.split(".")[1]
                private = [alias.name for alias in node.names if alias.name.startswith("_")]
                if private and theirs != own:
                    offences.append(f"{_name(path)}: {node.module} {private}")
    assert offences == []


def _defines_routes(tree: ast.Module) -> bool:
    return any(
        isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == "route"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for decorator in node.decorator_list
    )


def _session_calls(tree: ast.Module, names: set[str]) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names
    ]


def test_pages_never_commit_or_roll_back():
    views = [path for path in _modules() if _defines_routes(_tree(path))]
    assert len(views) >= 10, "the view modules were not found"
    offences = {_name(path): _session_calls(_tree(path), {"commit", "rollback"}) for path in views}
    assert {name: lines for name, lines in offences.items() if lines} == {}


def test_the_parts_of_the_business_import_at_the_top_of_the_module():
    """A function-level import is how a cycle is dodged; the parts break cycles by direction
    (and signals) instead. The factory and the command line load the parts lazily on purpose."""
    offences = []
    for path in _modules():
        if _domain(path) is None:
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("shop"):
                        offences.append(f"{_name(path)}:{inner.lineno} {inner.module}")
    assert offences == []


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_no_module_is_longer_than_a_reader_can_hold(path):
    if _name(path) in DATA_MODULES:
        return
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_every_signal_a_lower_part_sends_has_its_listener_once_the_shop_is_built(app):
    """Without its listener, a lapsed order would not reopen its quote, and Stripe's verdict
    would be recorded for no order (and never delivered again)."""
    assert order_lapsed_unpaid.receivers
    assert checkout_session_event.receivers
