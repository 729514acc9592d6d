"""Unit tests of helpers.serving.swagger_docs: /docs and every file it loads come from the app itself."""

from __future__ import annotations

import re
import sys

import pytest
import requests

from helpers import serving
from helpers.serving import swagger_docs

fastapi = pytest.importorskip("fastapi")

APP = """\
from fastapi import FastAPI

from helpers.serving.swagger_docs import serve_docs_offline

app = FastAPI(title="Probe", docs_url=None, redoc_url=None)
serve_docs_offline(app)


@app.get("/")
def home() -> dict:
    return {"ok": True}
"""


def _app(**kwargs) -> "fastapi.FastAPI":
    return fastapi.FastAPI(title="Probe", **kwargs)


def test_docs_page_loads_only_files_the_app_serves(tmp_path):
    """A real server: /docs, then every file the page names, fetched from the same server."""
    (tmp_path / "app.py").write_text(APP)
    with serving.serve("app:app", tmp_path, timeout=60) as server:
        page = requests.get(f"{server.url}/docs", timeout=10)
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        fetched = {a: requests.get(server.url + a, timeout=10) for a in assets}
        schema = requests.get(f"{server.url}/openapi.json", timeout=10).json()
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert sorted(assets) == sorted(f"{swagger_docs.ASSETS_PATH}/{name}" for name in swagger_docs._NEEDED), assets
    assert "cdn." not in page.text and "https://" not in page.text
    for asset, response in fetched.items():
        assert response.status_code == 200 and len(response.content) > 100, asset
    assert fetched[f"{swagger_docs.ASSETS_PATH}/swagger-ui-bundle.js"].headers["content-type"].startswith(
        ("application/javascript", "text/javascript"))
    assert schema["paths"].keys() == {"/"}  # the docs add no path to the API


def test_the_folder_is_swagger_ui_5():
    folder = swagger_docs.swagger_ui_folder()
    assert folder.name.startswith("swagger-ui-5.") and (folder / "swagger-ui-bundle.js").is_file()


def test_an_app_with_cdn_docs_is_refused():
    with pytest.raises(ValueError, match="docs_url=None"):
        swagger_docs.serve_docs_offline(_app())


@pytest.mark.parametrize("docs_url", ["docs", "/docs-assets/x"])
def test_bad_docs_url_is_refused(docs_url):
    with pytest.raises(ValueError, match="docs_url must be a path"):
        swagger_docs.serve_docs_offline(_app(docs_url=None), docs_url=docs_url)


def test_not_an_app_and_no_schema_are_refused():
    with pytest.raises(TypeError, match="FastAPI app"):
        swagger_docs.serve_docs_offline(object())
    with pytest.raises(ValueError, match="no OpenAPI description"):
        swagger_docs.serve_docs_offline(_app(docs_url=None, openapi_url=None))


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "swagger_ui_bundle", None)  # import fails
    with pytest.raises(ModuleNotFoundError, match="pip install swagger-ui-bundle-v2"):
        swagger_docs.swagger_ui_folder()
