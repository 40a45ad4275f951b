"""Playwright driving Debian's Chromium (never a downloaded browser) against live_server."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _unavailable(reason: str):
    if os.environ.get("LABTRACK_REQUIRE_SERVICES") == "1":
        pytest.fail(f"browser tests required but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    # Playwright's sync API runs an event loop; Django refuses sync DB calls from one.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1180, "height": 820}, device_scale_factor=1)
    context.set_default_timeout(20_000)
    pg = context.new_page()
    # Every page a browser test visits must pass the Content-Security-Policy: Chromium
    # reports each blocked script, style or image on the console.
    blocked: list[str] = []
    pg.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield pg
    context.close()
    assert blocked == [], f"the CSP blocked something: {blocked}"


@pytest.fixture
def shot():
    """shot(page, "name") saves test-artifacts/screenshots/name.png (full page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(pg, name: str, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/batches/")


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


@pytest.fixture
def worker(celery_worker_process):
    """A real Celery worker on the live server's database."""
    return celery_worker_process


def assert_fits_width(page) -> None:
    """Nothing sticks out sideways (tables scroll inside their own box)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"
