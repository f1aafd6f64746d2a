"""What the browser tests share: Debian's Chromium driven by Playwright, axe-core injected into each
page, screenshots written by the run, and a free port for the app served on loopback."""

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from support.suite import CHROMIUM, ROOT

SHOTS = Path(os.environ.get("TOWNHALL_SCREENSHOTS", ROOT / "build" / "screenshots"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Chromium as the machine allows it: no sandbox as root, no network of its own (the probe's flags).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SERIOUS = ("serious", "critical")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def launched() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def person(chromium: Browser, locale: str = "en-GB") -> Page:
    # axe-core is injected as a script of the test's own: the pages' CSP (rightly) refuses it otherwise.
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900}, locale=locale)
    return context.new_page()


def accessible(page: Page, seen: dict[str, list[str]], name: str) -> None:
    """axe-core on this page: what it finds serious or critical is kept under the page type's name."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    seen[name] = [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]
                  if v["impact"] in SERIOUS]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
