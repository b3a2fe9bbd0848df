"""Content-Security-Policy (django-csp) on every response, and no template left with what the
policy blocks: an inline <script>, an inline event handler, a style="" attribute."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATES = sorted(Path(settings.BASE_DIR, "gasworks").rglob("templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
HX_ON = re.compile(r"\shx-on", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"=\s*[\"']?\s*javascript:", re.IGNORECASE)


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/customers/", "/api/v1/customers/", "/nowhere/"])
def test_every_response_carries_the_policy(admin_client, path):
    policy = _policy(admin_client.get(path))
    assert policy["script-src"] == "script-src 'self'"
    assert policy["style-src"] == "style-src 'self'"
    assert policy["default-src"] == "default-src 'self'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert "unsafe" not in " ".join(policy.values())


def test_the_api_docs_start_swagger_ui_from_a_script_file(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    assert not INLINE_SCRIPT.search(page)


def test_no_template_has_what_the_policy_blocks():
    assert TEMPLATES, "no templates found"
    found = []
    for path in TEMPLATES:
        text = path.read_text(encoding="utf-8")
        for name, pattern in (
            ("inline script", INLINE_SCRIPT),
            ("event handler", HANDLER),
            ("style attribute", STYLE_ATTRIBUTE),
            ("hx-on", HX_ON),
            ("javascript: URL", JAVASCRIPT_URL),
        ):
            found += [f"{path.relative_to(settings.BASE_DIR)}: {name}" for _ in pattern.finditer(text)]
    assert not found, "\n".join(found)


def test_htmx_injects_no_indicator_style(admin_client):
    page = admin_client.get("/").content.decode()
    assert '"includeIndicatorStyles": false' in page
