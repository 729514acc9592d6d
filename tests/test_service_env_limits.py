"""The services read their limits from the environment through ``helpers.arguments.env_whole``: a bad value
stops the service at import with one wording, whichever service it is (the wine service and TF Serving's
own limits are tested beside them, in test_wine_service.py and test_tfserving.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _import(module: str, attribute: str, **env: str) -> subprocess.CompletedProcess:
    code = f"import {module} as m; print(m.{attribute})"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def test_the_proxy_reads_its_body_limit_from_the_environment() -> None:
    assert _import("helpers.serving.autoscale_proxy", "MAX_BODY_BYTES", PROXY_MAX_BODY_BYTES="5000").stdout == "5000\n"


@pytest.mark.parametrize("bad", ["0", "-1", "100 KB", ""])
def test_the_proxy_refuses_a_body_limit_that_is_no_positive_whole_number(bad: str) -> None:
    failed = _import("helpers.serving.autoscale_proxy", "MAX_BODY_BYTES", PROXY_MAX_BODY_BYTES=bad)
    assert failed.returncode != 0
    assert f"PROXY_MAX_BODY_BYTES must be a whole number of at least 1, got {bad!r} (unset it for the default, " \
           "100000)" in failed.stderr, failed.stderr
