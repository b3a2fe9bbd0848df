"""Playwright driving Debian's chromium against the live test server."""

from contextlib import contextmanager, suppress
from pathlib import Path

from django.conf import settings

from tests.factories import PASSWORD
from tests.services import require_chromium

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@contextmanager
def browser_page(base_url: str, locale: str = "en-US"):
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(
                base_url=base_url, locale=locale, viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            page.set_default_timeout(15000)
            yield page
            # The test ends when the page's requests have: a fragment the page fetched after
            # load (the dashboard's trends) must not still be running on the live server while
            # the test's data is flushed and the next test begins.
            with suppress(Exception):  # a page that never idles is closed all the same
                page.wait_for_load_state("networkidle", timeout=15000)
        finally:
            browser.close()


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Elements reaching past the window's right edge (named in a failure message).
WIDER = """Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .map(e => e.tagName + '.' + e.className).slice(0, 5)"""

# The top bar's visible parts whose top lies below the first part's bottom: a second line.
TOPBAR_WRAPS = """(() => {
  const parts = Array.from(document.querySelectorAll('.gw-topbar .container-fluid > *'))
    .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0);
  const first = parts[0];
  return parts.filter(r => r.top >= first.bottom - 1).length;
})()"""


def assert_fits(page) -> None:
    """No sideways scrolling, and the top bar (menu button, brand, user menu, language picker) on
    one line: on a phone (390 px) in either language."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window: {page.evaluate(WIDER)}"
    wrapped = page.evaluate(TOPBAR_WRAPS)
    assert wrapped == 0, f"{page.url}: the top bar wraps ({wrapped} parts on a second line)"
