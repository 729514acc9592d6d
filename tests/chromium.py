"""Headless Chromium for the browser tests (test_browser.py, test_site.py): the system's Chromium (never a
downloaded one), driven by Playwright, launched with its own traffic off, in browser contexts whose every
request beyond 127.0.0.1 is aborted and recorded.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from helpers import env

CHROMIUM = os.environ.get("MLOPS_LABS_CHROMIUM", "/usr/bin/chromium")

# Chromium's own traffic (component updates, safe browsing, sync, metrics...) is off, and every host name
# but 127.0.0.1 fails to resolve, so nothing can leave the machine even by mistake.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
    "--metrics-recording-only", "--no-pings", "--disable-features=OptimizationHints,MediaRouter,Translate",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

LOOPBACK = re.compile(r"^(https?|wss?)://127\.0\.0\.1(:\d+)?/")


def chromium_or_skip() -> str:
    """The Chromium binary; the test is skipped without one (and fails under CI, which must install it)."""
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = (f"Chromium is not installed at {CHROMIUM} (Debian/Ubuntu: apt-get install chromium; or set "
              "MLOPS_LABS_CHROMIUM to a Chromium or Chrome binary)")
    if env.in_ci():
        pytest.fail(reason + "; CI must install it (.ci/run does)")
    pytest.skip(reason)


def launch(pw):
    """Headless Chromium from Playwright's ``pw`` (``sync_playwright()``), with the arguments above."""
    return pw.chromium.launch(executable_path=chromium_or_skip(), headless=True, args=CHROMIUM_ARGS,
                              chromium_sandbox=False)


def loopback_context(browser) -> tuple[object, list[str]]:
    """A new browser context (1400x1000, no service workers) that may reach 127.0.0.1 only, and the list
    that collects the URLs it refused (a test asserts it is empty, or holds only what it expects)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, service_workers="block")
    blocked: list[str] = []

    def only_loopback(route) -> None:
        url = route.request.url
        if LOOPBACK.match(url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", only_loopback)
    return context, blocked
