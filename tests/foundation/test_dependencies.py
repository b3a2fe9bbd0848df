"""The house rules that keep one copy of each rule and dependencies pointing one way
(a domain app never imports the apps above it), checked on the source so a new file cannot quietly break them."""

import ast
import datetime as dt
import pathlib
import re
import zoneinfo

import pytest

from gasworks.lib.dates import start_of_day

ROOT = pathlib.Path(__file__).resolve().parents[2] / "gasworks"


def _imports(app: str) -> dict[str, set[str]]:
    """{file: imported gasworks modules} for every Python file of an app."""
    found = {}
    for path in (ROOT / app).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(ROOT))] = {n for n in names if n.startswith("gasworks.")}
    return found


@pytest.mark.parametrize(
    ("app", "forbidden"),
    [
        ("billing", ("gasworks.payments",)),  # payments posts to billing, not the other way
        ("customers", ("gasworks.billing", "gasworks.payments", "gasworks.metering")),
        ("metering", ("gasworks.billing", "gasworks.payments")),
        # web (layout, shared pages) sits below the domain apps that move gas and money
        (
            "web",
            (
                "gasworks.billing",
                "gasworks.payments",
                "gasworks.metering",
                "gasworks.cylinders",
                "gasworks.safety",
            ),
        ),
    ],
)
def test_dependencies_point_one_way(app, forbidden):
    wrong = {
        path: sorted(m for m in modules if m.startswith(forbidden))
        for path, modules in _imports(app).items()
        if any(m.startswith(forbidden) for m in modules)
    }
    assert wrong == {}


def test_the_money_field_spec_is_defined_once():
    spec = re.compile(r"""["']max_digits["']\s*:\s*14\s*,\s*["']decimal_places["']\s*:\s*2""")
    places = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if "migrations" not in path.parts and spec.search(path.read_text())
    ]
    assert places == ["lib/money.py"]


def test_start_of_day_is_defined_once():
    places = [str(path.relative_to(ROOT)) for path in ROOT.rglob("*.py") if "time.min" in path.read_text()]
    assert places == ["lib/dates.py"]


def test_start_of_day_is_local_midnight():
    day = dt.date(2026, 3, 8)  # a DST change elsewhere; Shanghai has none
    assert start_of_day(day).isoformat() == "2026-03-08T00:00:00+08:00"
    new_york = zoneinfo.ZoneInfo("America/New_York")
    assert start_of_day(day, new_york).isoformat() == "2026-03-08T00:00:00-05:00"
    assert start_of_day(dt.date(2026, 3, 9), new_york).isoformat() == "2026-03-09T00:00:00-04:00"


def test_the_status_check_has_one_copy():
    """No service compares a status against a transition table by hand any more."""
    by_hand = re.compile(r"not in \w*TRANSITIONS")
    places = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py") if by_hand.search(p.read_text())]
    assert places == []


APPS = ["accounts", "api", "billing", "customers", "cylinders", "lib", "metering", "payments"]
APPS += ["reports", "safety", "system", "top", "web"]


@pytest.mark.parametrize("app", APPS)
def test_every_app_says_what_it_owns(app):
    tree = ast.parse((ROOT / app / "__init__.py").read_text())
    doc = ast.get_docstring(tree)
    assert doc and len(doc) > 60, f"gasworks/{app}/__init__.py has no docstring saying what it owns"


def test_the_readme_links_the_architecture_map():
    readme = (ROOT.parent / "README.md").read_text()
    assert "(docs/architecture.md)" in readme
    architecture = (ROOT.parent / "docs" / "architecture.md").read_text()
    from gasworks import subscriptions

    for event_type, _handler in subscriptions.LISTENERS:
        assert event_type.__name__ in architecture
