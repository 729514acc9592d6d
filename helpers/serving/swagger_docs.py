"""Interactive API docs that work offline: a FastAPI app serves Swagger UI's own files.

FastAPI's default ``/docs`` page loads Swagger UI's script and style sheet from a CDN, so the page stays
blank on a machine without internet access even though the API itself is local. ``serve_docs_offline``
mounts the copy of Swagger UI 5 that the ``swagger-ui-bundle-v2`` package ships and serves ``/docs`` from
it: every file the page loads comes from the service. FastAPI is imported inside the functions, so
``import helpers.serving.swagger_docs`` stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["ASSETS_PATH", "swagger_ui_folder", "serve_docs_offline"]

ASSETS_PATH = "/docs-assets"  # where the app serves Swagger UI's files
_NEEDED = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")


def swagger_ui_folder() -> Path:
    """The installed folder of Swagger UI 5's files (``swagger-ui-bundle.js``, ``swagger-ui.css`` ...).

    Raises:
        ModuleNotFoundError: ``swagger-ui-bundle-v2`` is not installed (the message says how to install it).
        FileNotFoundError: the package is there but lacks a file the page needs.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    try:
        import swagger_ui_bundle
    except ImportError:
        raise ModuleNotFoundError(
            "Swagger UI's files are not installed, so /docs cannot be served offline: "
            "pip install swagger-ui-bundle-v2 (a dependency of this repository's helpers)") from None
    folder = Path(str(swagger_ui_bundle.swagger_ui_path))
    missing = [name for name in _NEEDED if not (folder / name).is_file()]
    if not folder.name.startswith("swagger-ui-5.") or missing:
        raise FileNotFoundError(f"{folder} is not a complete copy of Swagger UI 5 (missing: {missing or 'none'}); "
                                "pip install -U swagger-ui-bundle-v2")
    return folder


def serve_docs_offline(app: "FastAPI", docs_url: str = "/docs") -> None:
    """Serve Swagger UI at ``docs_url`` from the app itself: the page, its script, style sheet and icon.

    Args:
        app: a FastAPI app created with ``docs_url=None`` (so FastAPI adds no CDN-based page of its own).
        docs_url: where the interactive docs are served.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    from fastapi import FastAPI
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    if not isinstance(app, FastAPI):
        raise TypeError(f"serve_docs_offline needs a FastAPI app, got {type(app).__name__}")
    if app.docs_url is not None:
        raise ValueError(f"the app already serves CDN-based docs at {app.docs_url}; create it with "
                         "FastAPI(..., docs_url=None) and let serve_docs_offline add them")
    if not app.openapi_url:
        raise ValueError("the app has no OpenAPI description (openapi_url=None): there is nothing to document")
    if not docs_url.startswith("/") or docs_url.startswith(ASSETS_PATH):
        raise ValueError(f"docs_url must be a path such as '/docs', not under {ASSETS_PATH}; got {docs_url!r}")
    app.mount(ASSETS_PATH, StaticFiles(directory=swagger_ui_folder()), name="swagger-ui-assets")

    def docs() -> Any:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} - docs",
                                   swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png")

    app.add_api_route(docs_url, docs, methods=["GET"], include_in_schema=False)
