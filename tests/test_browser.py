"""The learner's JupyterLab path, driven in a real browser.

JupyterLab is started on 127.0.0.1 (a free port, a token made here, every setting and runtime folder in a
temporary directory, and nothing it would fetch from the web switched on), a lab is opened in headless
Chromium from the system's packages (driven by Playwright; no browser is downloaded), "Run All Cells" is
clicked, and the test asserts that every cell ran, no cell shows an error, and the plots rendered. A second,
throwaway notebook checks that widgets (the progress bars of tqdm and Keras) render in JupyterLab 4.
Screenshots go to ``build/browser/``. A last test starts the C1_W1 lab's face detector service and uses its
interactive docs (``/docs``, Swagger UI, served by the service itself) as a learner would: it uploads a photo
and clicks "Execute"; its two screenshots are the ones the lab shows (``course1_intro/images/C1_W1_docs.png``
and ``C1_W1_docs_response.jpg``, rewritten when MLOPS_LABS_UPDATE_IMAGES=1).

The notebooks run from copies in a temporary folder, so JupyterLab never writes into the checkout.
Chromium only ever sees 127.0.0.1: any other request is aborted and fails the test, and host names
other than 127.0.0.1 do not resolve.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import chromium  # tests/chromium.py: the Chromium set-up shared with test_site.py
import nbformat
import psutil
import pytest

from helpers import serving

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "browser"

# The labs opened in the browser: each has plots. Running one takes about as long as under papermill.
LABS = ["course2_data/C2_W1_Lab_1_TFDV.ipynb"]

# User settings for this JupyterLab only: no news or update checks, every cell kept in the page (so the
# test sees all of them), no autosave (the test saves once, at the end).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none", "autoStartDefaultKernel": True},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}

# The badge row (Open in Colab, view on GitHub) shows remote images: in this test they are never fetched.
BADGE_IMAGES = ("https://colab.research.google.com/assets/", "https://img.shields.io/")

pytestmark = pytest.mark.notebooks  # it executes notebooks: `make static` leaves it out

playwright_sync = pytest.importorskip("playwright.sync_api")


def _write_probe(lab, name: str, sources: list[str]) -> str:
    """Write a throwaway notebook of code cells into the lab's folder; return its file name."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, lab.notebooks / f"{name}.ipynb")
    return f"{name}.ipynb"


class Lab:
    """A JupyterLab server for one test: started on 127.0.0.1, stopped with everything it started."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.notebooks = workdir / "notebooks"
        self.notebooks.mkdir()
        self.port = serving.free_port()
        self.token = os.urandom(16).hex()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "jupyterlab.log"
        self.proc: subprocess.Popen | None = None
        self.started: list[psutil.Process] = []

    def start(self, timeout: float = 120) -> None:
        home = self.workdir / "jupyter"
        settings = home / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        lab_env = dict(os.environ)
        lab_env.update(
            JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            JUPYTER_DATA_DIR=str(home / "data"), JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_PLATFORM_DIRS="1",
            PYDEVD_DISABLE_FILE_VALIDATION="1",
        )
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.notebooks}",
            "--LabApp.news_url=None",  # announcements feed
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",  # the default one lists extensions from PyPI
        ] + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])  # CI runs as root
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(command, cwd=self.notebooks, env=lab_env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        try:
            serving.wait_until_healthy(f"{self.url}/api/status?token={self.token}", timeout, self.proc,
                                       interval=0.5)
        except serving.ServerError as exc:
            raise RuntimeError(f"JupyterLab did not start: {exc}\n{self.log()}") from None

    def log(self) -> str:
        return self.log_path.read_text()[-4000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop the server (it shuts its kernels down), then end by pid whatever it started that is left."""
        if self.proc is None:
            return
        try:
            self.started = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            self.started = []
        serving.stop(self.proc, timeout=30)
        for child in self.started:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(self.started, timeout=10)
        self._log.close()


@pytest.fixture
def lab(tmp_path):
    server = Lab(tmp_path)
    try:
        yield server
    finally:
        server.stop()
        left = [p.pid for p in server.started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not left, f"JupyterLab left processes behind: {left}"


@pytest.fixture
def browser_page(tmp_path):
    """A page of headless Chromium that can reach 127.0.0.1 only; yields (page, blocked requests)."""
    chromium.chromium_or_skip()
    with playwright_sync.sync_playwright() as pw:
        browser = chromium.launch(pw)
        browser_pids = [p.pid for p in psutil.Process().children(recursive=True)
                        if "chrom" in p.name().lower()]
        try:
            context, blocked = chromium.loopback_context(browser)
            yield context.new_page(), blocked
        finally:
            browser.close()
    processes = []
    for pid in browser_pids:
        try:
            processes.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _, left = psutil.wait_procs(processes, timeout=15)  # helpers may take a moment to exit on a loaded machine
    alive = []
    for process in left:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process.pid)
        except psutil.NoSuchProcess:
            pass
    assert not alive, f"Chromium processes left behind: {alive}"


def _copy_without_outputs(source: Path, target: Path) -> None:
    """The notebook as a learner starts it: no stored outputs, so whatever the page shows was made now."""
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, target)


def _open(page, lab: Lab, name: str) -> None:
    """Open a notebook and wait until its kernel is idle (accepting the kernel dialog if one shows)."""
    page.goto(f"{lab.url}/lab/tree/{name}?token={lab.token}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if idle.count():
            return
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        if dialog.count():
            dialog.first.click()
        page.wait_for_timeout(500)
    raise AssertionError(f"the kernel of {name} did not become idle within 120 s")


def _run_all(page, timeout_s: float) -> None:
    """Run > Run All Cells from the menu bar, then wait until every cell is done."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                 .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))""", timeout=60_000)
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            const busy = prompts.some(p => p.textContent.includes('*'));
            const idle = document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]');
            return !busy && idle !== null;
        }""", timeout=timeout_s * 1000, polling=500)
    page.wait_for_timeout(1000)  # let the last outputs paint


def _prompts(page) -> list[str]:
    """The execution prompt of every code cell in the page ("[3]:" once run, "[ ]:" if not)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
            .map(p => p.textContent.trim())""")


def _problems_in_page(page) -> list[str]:
    """Error and stderr outputs: JupyterLab renders both with the stderr MIME type."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
            .map(o => o.textContent.slice(0, 300))""")


def _screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{Path(name).stem}.png"
    page.screenshot(path=str(path))
    return path


@pytest.mark.parametrize("notebook", LABS, ids=[Path(n).stem for n in LABS])
def test_lab_runs_in_jupyterlab(notebook, lab, browser_page):
    page, blocked = browser_page
    source = ROOT / notebook
    _copy_without_outputs(source, lab.notebooks / source.name)
    lab.start()
    _open(page, lab, source.name)
    started = time.monotonic()
    _run_all(page, timeout_s=600)
    ran_for = time.monotonic() - started

    errors = _problems_in_page(page)
    images = page.evaluate(
        """() => [...document.querySelectorAll('.jp-OutputArea-output img')]
            .filter(i => i.complete && i.naturalWidth > 100 && i.naturalHeight > 100).length""")
    if images:
        page.locator(".jp-OutputArea-output img").last.scroll_into_view_if_needed()
    shot = _screenshot(page, notebook)
    prompts = _prompts(page)
    code_cells = sum(1 for c in nbformat.read(source, as_version=4).cells if c.cell_type == "code")

    assert not errors, f"{notebook}: error or stderr output in the page after Run All:\n" + "\n".join(errors)
    assert len(prompts) == code_cells, f"{notebook}: {len(prompts)} code cells in the page, {code_cells} in the file"
    not_run = [i for i, p in enumerate(prompts) if not re.fullmatch(r"\[\d+\]:", p)]
    assert not not_run, f"{notebook}: code cells {not_run} did not run ({ran_for:.0f} s): {prompts}; see {shot}"
    assert images >= 1, f"{notebook}: no plot rendered in the page; see {shot}"
    # The badge row's images are the only remote addresses a lab's page names; they were aborted above.
    unexpected = [url for url in blocked if not url.startswith(BADGE_IMAGES)]
    assert not unexpected, f"the page tried to reach beyond 127.0.0.1: {unexpected}"


WIDGET_PROBE = [
    "import ipywidgets as widgets\nfrom tqdm.auto import tqdm\n\n"
    "for _ in tqdm(range(5), desc='tqdm bar'):\n    pass",
    "widgets.IntProgress(value=3, max=5, description='progress')",
]


def test_progress_bar_widgets_render(lab, browser_page):
    """tqdm.auto and ipywidgets progress bars render as widgets in JupyterLab 4, not as plain text."""
    page, blocked = browser_page
    probe = _write_probe(lab, "widgets_probe", WIDGET_PROBE)
    lab.start()
    _open(page, lab, probe)
    _run_all(page, timeout_s=120)
    page.wait_for_selector(".jp-OutputArea-output .jupyter-widgets .progress-bar", timeout=30_000)
    bars = page.locator(".jp-OutputArea-output .jupyter-widgets .progress-bar").count()
    text = "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    _screenshot(page, "widgets_probe")

    assert not _problems_in_page(page), _problems_in_page(page)
    assert bars >= 2, f"expected a tqdm bar and an IntProgress widget, found {bars} progress widgets"
    assert "Error displaying widget" not in text and "IntProgress(value" not in text, text[-500:]
    assert not blocked, f"the page tried to reach beyond 127.0.0.1: {blocked}"


def test_an_error_in_a_cell_is_seen(lab, browser_page):
    """The checks above can fail: a raising cell shows as an error output. (Whether Run All then skips the
    next cell is a race in the kernel: a request that reaches it after the error has been handled still
    runs, as ipykernel's stop_on_error_timeout is 0 s; so only the error and the cell before it are checked.)"""
    page, blocked = browser_page
    probe = _write_probe(lab, "error_probe",
                         ["print('first')", "raise ValueError('broken on purpose')", "print('never')"])
    lab.start()
    _open(page, lab, probe)
    _run_all(page, timeout_s=120)
    errors, prompts = _problems_in_page(page), _prompts(page)
    assert len(errors) == 1 and "broken on purpose" in errors[0], errors
    assert re.fullmatch(r"\[\d+\]:", prompts[0]) and re.fullmatch(r"\[\d+\]:", prompts[1]), prompts
    assert not blocked


# --- the interactive docs of the C1_W1 service ---------------------------------------------------------

C1W1 = ROOT / "course1_intro" / "C1_W1_Lab_1_Deploying_a_Model.ipynb"
DOCS_IMAGE = ROOT / "course1_intro" / "images" / "C1_W1_docs.png"  # /predict opened, "Try it out" clicked
RESPONSE_IMAGE = ROOT / "course1_intro" / "images" / "C1_W1_docs_response.jpg"  # after "Execute"
PHOTO = "astronaut"  # the photo uploaded through the docs page (scikit-image's, as in the lab)


def _lab_module(name: str) -> str:
    """The source the C1_W1 notebook assigns to ``name`` (DETECTOR or APP) and writes out as a module."""
    for cell in nbformat.read(C1W1, as_version=4).cells:
        if cell.cell_type != "code" or f"{name} = " not in cell.source:
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == [name]:
                return ast.literal_eval(node.value)
    raise AssertionError(f"{C1W1.name} has no cell assigning {name}")


def test_c1w1_docs_page(tmp_path, browser_page):
    """The C1_W1 service's /docs in Chromium that reaches only 127.0.0.1: Swagger UI renders from the
    service's own files, lists both endpoints and /predict's inputs, and an upload through "Execute" comes
    back as a 200 with the annotated image."""
    import cv2
    import skimage.data

    page, blocked = browser_page
    (tmp_path / "detector.py").write_text(_lab_module("DETECTOR"))
    (tmp_path / "app.py").write_text(_lab_module("APP"))
    photo = tmp_path / f"{PHOTO}.jpg"
    cv2.imwrite(str(photo), cv2.cvtColor(getattr(skimage.data, PHOTO)(), cv2.COLOR_RGB2BGR))
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    with serving.serve("app:app", tmp_path, timeout=60) as server:
        page.goto(f"{server.url}/docs", wait_until="domcontentloaded")
        page.wait_for_selector(".swagger-ui .opblock-summary", timeout=60_000)
        title = page.locator(".swagger-ui .info .title").inner_text()
        operations = page.locator(".opblock-summary-path").all_inner_texts()
        page.locator(".opblock-post .opblock-summary").first.click()  # open POST /predict
        page.locator(".opblock-post .try-out__btn").click()  # "Try it out": the inputs become editable
        page.wait_for_selector(".opblock-post .parameters select", timeout=30_000)
        model = page.locator(".opblock-post .parameters select").first
        choices = model.locator("option").all_inner_texts()
        model.select_option("lbp")
        file_inputs = page.locator(".opblock-post input[type=file]")
        n_file_inputs = file_inputs.count()
        file_inputs.first.set_input_files(str(photo))
        page.wait_for_timeout(500)
        form_shot = _screenshot(page, "C1_W1_docs")
        page.locator(".opblock-post .execute").click()
        status = page.locator(".opblock-post .live-responses-table tr.response .response-col_status").first
        status.wait_for(timeout=60_000)
        returned = page.locator(".opblock-post .live-responses-table img").first
        returned.wait_for(timeout=60_000)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=returned.element_handle(),
                               timeout=30_000)
        # The request URL, the status and the returned image in one view: the server response at the top.
        page.evaluate("""() => {
            document.querySelector('.opblock-post .request-url').scrollIntoView({block: 'start'});
            window.scrollBy(0, -40);
        }""")
        page.wait_for_timeout(500)
        size = page.evaluate("img => [img.naturalWidth, img.naturalHeight]", returned.element_handle())
        SHOTS.mkdir(parents=True, exist_ok=True)
        response_shot = SHOTS / RESPONSE_IMAGE.name
        page.screenshot(path=str(response_shot), type="jpeg", quality=80)  # a photo: JPEG keeps it small
        request_url = page.locator(".opblock-post .request-url").inner_text()
        status_text = status.inner_text()
    assert "Face detector" in title, title
    assert [op.replace("\u200b", "") for op in operations] == ["/", "/predict"], operations
    assert [c for c in choices if c.strip() and c != "--"] == ["haar", "lbp"], choices
    assert n_file_inputs == 1
    assert status_text.strip().startswith("200"), status_text
    assert "model=lbp" in request_url, request_url
    assert size == [512, 512], size  # the astronaut, annotated, as the service returned it
    assert not blocked, f"the page tried to reach beyond 127.0.0.1: {blocked}"
    assets = [url for url in loaded if url.endswith((".js", ".css"))]
    assert assets and all(url.startswith(server.url + "/") for url in assets), assets  # served by the service
    if os.environ.get("MLOPS_LABS_UPDATE_IMAGES") == "1":
        DOCS_IMAGE.parent.mkdir(exist_ok=True)
        DOCS_IMAGE.write_bytes(form_shot.read_bytes())
        RESPONSE_IMAGE.write_bytes(response_shot.read_bytes())
    for image in (DOCS_IMAGE, RESPONSE_IMAGE):
        assert image.is_file(), f"{image.relative_to(ROOT)} is missing; run with MLOPS_LABS_UPDATE_IMAGES=1"
