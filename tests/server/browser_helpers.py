"""Headless Chromium (Debian's) over the real pages: launching it, signing in, and what every page must hold."""

from __future__ import annotations

import importlib.util
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ci import need

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # screenshots, kept by CI
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium browser, or the test is skipped (locally) / failed (CI) when it is missing."""
    need(shutil.which(CHROMIUM) is not None, f"{CHROMIUM} is missing (Debian: apt-get install chromium)")
    need(
        importlib.util.find_spec("playwright") is not None,
        "the playwright package is missing (pip install playwright)",
    )
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def signed_in(browser, base: str, token: str, path: str, viewport: dict[str, int] = PHONE):
    """A page signed in through an invite link, then at `path`; and the page's JS errors (an HTTP
    error answer is not one: the page shows those)."""
    page = browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.goto(f"{base}/join#{token}")
    page.wait_for_url(re.compile(r"/(chat|dashboard|today)$"))
    if not page.url.endswith(path):
        page.goto(f"{base}{path}")
    return page, errors


def fits(page) -> bool:
    """Nothing is wider than the viewport: no sideways scrolling on a phone."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def left_whole(page, errors: list[str], name: str) -> None:
    """How a test leaves a page: a screenshot (test-artifacts/`name`.png), nothing wider than the viewport,
    no script errors; then closed."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert fits(page) and errors == []
    page.close()


def accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
