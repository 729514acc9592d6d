"""Start a web app as a real ``uvicorn`` process on 127.0.0.1, wait until it answers, and always stop it.

    from helpers import serving

    with serving.serve("app:app", app_dir=OUT, log_path=OUT / "server.log") as server:
        requests.get(server.url + "/")

The server runs in its own process, as it would in production, so the notebook's kernel stays free to act
as the client. Its output goes to a log file, not to the notebook. Leaving the ``with`` block, normally or
through an exception, stops the process by its own id (SIGTERM, then SIGKILL if it does not exit).

Every service of the project refuses what would take it down before doing any work:

    app.add_middleware(serving.BodyLimitMiddleware, max_bytes=5_000_000)   # 413 above 5 MB, streamed or not
    app.add_middleware(serving.JSONGuardMiddleware, max_depth=8, max_values=3_392)  # 415/400, not parsed
    # both refuse NaN, Infinity and numbers beyond a double's range in a JSON body (400, non_finite_json)
    # both answer {"detail": message}; pass error_body=(status, message) -> bytes for another shape
    width, height = serving.check_image_pixels(data, max_pixels=25_000_000)  # reads the header only

``check_image_pixels`` raises ``RequestRejected`` (a ``ValueError``) whose ``status_code`` is the answer to
give: 413 for too many pixels, 415 for bytes that are no image, 400 for an empty upload.

The package's modules: ``process`` (``serve``, ``Server``, ports, health checks, ``stop``), ``limits`` (the
middlewares and their ``detail_body``, ``check_image_pixels`` and the ``RequestRejected`` errors) and
``json_scan`` (``scan_json``, ``non_finite_json``: why a JSON body is refused, read from its bytes).
The services themselves live beside them, each imported on its own (``from helpers.serving import
wine_service``): the FastAPI apps ``wine_service`` (Course 4, week 2), ``monitoring_app`` (week 4) and
``autoscale_proxy`` (the round-robin Service of the autoscaling lab), ``swagger_docs`` (``/docs`` offline),
and ``tfserving``, the TF Serving REST server and its client.
"""

from helpers.serving.json_scan import non_finite_json, scan_json
from helpers.serving.limits import (
    BodyLimitMiddleware,
    ImageTooLarge,
    ImageUnreadable,
    JSONGuardMiddleware,
    RequestRejected,
    check_image_pixels,
    detail_body,
)
from helpers.serving.process import (
    HOST,
    LOCAL_OPENER,
    ChildProcess,
    Server,
    ServerError,
    free_port,
    launch,
    log_excerpt,
    log_tail,
    port_in_use,
    serve,
    stop,
    wait_until_healthy,
)

__all__ = ["HOST", "LOCAL_OPENER", "BodyLimitMiddleware", "ChildProcess", "ImageTooLarge", "ImageUnreadable",
           "JSONGuardMiddleware", "RequestRejected", "Server", "ServerError", "check_image_pixels", "detail_body",
           "free_port", "launch", "log_excerpt", "log_tail", "non_finite_json", "port_in_use", "scan_json", "serve",
           "stop", "wait_until_healthy"]
