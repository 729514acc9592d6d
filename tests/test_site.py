"""The static site (`make site`, helpers/harness/site.py): built from the committed notebooks without executing them,
offline, and read in headless Chromium as a learner would: every page loads with no console error and no
request beyond 127.0.0.1, the search finds a lab by a word of its text, a plot is visible. Screenshots go to
``build/site-shots/``. The GitHub Pages workflow that would publish it is checked here too (never run).
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

import chromium  # tests/chromium.py: the Chromium set-up shared with test_browser.py
import pytest
import yaml

from helpers.harness import site

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "site-shots"
WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"

pytestmark = pytest.mark.notebooks  # it renders every notebook: `make static` leaves it out


def _labs() -> list[str]:
    return sorted(f"{c}/{p.stem}" for c in site.COURSES for p in (ROOT / c).glob("*.ipynb"))


def test_readme_tables_are_the_single_source():
    tables = site.readme_tables((ROOT / "README.md").read_text())
    assert list(tables) == list(site.COURSES)
    for folder, table in tables.items():
        linked = set(re.findall(rf"\]\({folder}/(\w+)\.ipynb\)", table))
        assert linked == {p.stem for p in (ROOT / folder).glob("*.ipynb")}, f"{folder}: the table and the folder differ"
    with pytest.raises(ValueError, match="no '### Course"):
        site.readme_tables("# nothing here\n")


def test_badges_become_text_links():
    row = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.example/x) "
           "[![View on GitHub](https://img.shields.io/badge/x.svg)](https://github.example/x)")
    assert site.text_badges(row) == "[Open In Colab](https://colab.example/x) · [View on GitHub](https://github.example/x)"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    index = site.build(ROOT, out)
    assert index.is_file()
    return out


def test_every_lab_has_a_page_and_solutions_are_not_published(built):
    for lab in _labs():
        assert (built / f"{lab}.html").is_file(), f"no page for {lab}"
    assert not list(built.glob("**/solutions/**")), "the assignments' solutions must not be published"
    for assignment in (ROOT / "course2_data" / "solutions").glob("*.ipynb"):
        page = (built / "course2_data" / f"{assignment.stem}.html").read_text()
        assert "YOUR CODE HERE" in page and "NotImplementedError" in page  # the learner copy, not the answers


def test_nothing_on_a_page_is_fetched_from_the_internet(built):
    for page in built.glob("**/*.html"):
        text = page.read_text()
        remote = [tag for tag in re.findall(r"<(?:script|img|iframe|source)\b[^>]*>|<link\b[^>]*>", text)
                  if re.search(r"\b(?:src|href)=\"(?:https?:)?//", tag) and "rel=\"canonical\"" not in tag]
        assert not remote, f"{page.relative_to(built)} fetches {remote[:3]}"


@pytest.fixture(scope="module")
def served(built):
    """The site on 127.0.0.1 (a thread of this process; stopped at the end)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(served):
    playwright_sync = pytest.importorskip("playwright.sync_api")
    chromium.chromium_or_skip()
    with playwright_sync.sync_playwright() as pw:
        launched = chromium.launch(pw)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser):
    """A page that may reach 127.0.0.1 only; yields (page, blocked requests, console errors)."""
    context, blocked = chromium.loopback_context(browser)
    errors = []
    tab = context.new_page()
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab, blocked, errors
    context.close()


def test_every_page_loads_offline_without_errors(served, page):
    tab, blocked, errors = page
    for path in ["index", *(f"{c}/index" for c in site.COURSES), *_labs()]:
        response = tab.goto(f"{served}/{path}.html", wait_until="load")
        assert response.status == 200, f"{path}: HTTP {response.status}"
        assert not errors, f"{path}: console errors {errors}"
        assert not blocked, f"{path}: requests beyond 127.0.0.1 {blocked}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.goto(f"{served}/index.html", wait_until="load")
    tab.screenshot(path=str(SHOTS / "home.png"))
    courses = tab.locator("nav.bd-links a").all_inner_texts()
    assert [t for t in courses if t.startswith("Course")] == list(site.COURSES.values()), courses


def test_a_lab_page_shows_its_plot(served, page):
    tab, blocked, errors = page
    tab.goto(f"{served}/course2_data/C2_W1_Lab_1_TFDV.html", wait_until="load")
    plot = tab.locator(".cell_output img").first
    plot.scroll_into_view_if_needed()
    size = plot.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
    assert size[0] and size[1] > 200 and size[2] > 100, size
    assert plot.is_visible()
    tab.screenshot(path=str(SHOTS / "lab.png"))
    assert not errors and not blocked


def test_search_finds_a_lab_by_a_word_of_its_text(served, page):
    tab, blocked, errors = page
    tab.goto(f"{served}/search.html?q=Hyperband", wait_until="load")
    tab.wait_for_selector("#search-results ul.search li", timeout=30_000)
    hits = tab.locator("#search-results ul.search li a").all_inner_texts()
    assert any("Keras Tuner" in h or "Keras_Tuner" in h for h in hits), hits
    assert not errors and not blocked


def test_the_pages_workflow_builds_and_publishes_the_site():
    flow = yaml.safe_load(WORKFLOW.read_text())
    on = flow.get(True, flow.get("on"))  # YAML 1.1 reads the key `on` as True
    assert "push" in on and on["push"]["branches"] == ["main"]
    assert flow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build_steps = flow["jobs"]["build"]["steps"]
    runs = " ".join(step.get("run", "") for step in build_steps)
    assert "make site" in runs
    uses = [step.get("uses", "") for step in build_steps]
    upload = next(s for s in build_steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "build/site"
    assert any(u.startswith("actions/checkout") for u in uses)
    deploy = flow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in deploy["steps"])
