"""Tests of helpers.tflite (the converter's native log lines kept out of notebooks)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from helpers import tflite


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60)


def test_native_stderr_is_hidden_and_restored():
    result = _run("""
        import os
        from helpers import tflite
        with tflite.native_logs_silenced():
            os.write(2, b"W0000 native noise\\n")
        os.write(2, b"after the block\\n")
    """)
    assert result.returncode == 0, result.stderr
    assert "native noise" not in result.stderr
    assert "after the block" in result.stderr


def test_the_log_is_attached_when_the_block_fails():
    result = _run("""
        import os
        from helpers import tflite
        try:
            with tflite.native_logs_silenced():
                os.write(2, b"E0000 converter: unsupported op\\n")
                raise RuntimeError("conversion failed")
        except RuntimeError as exc:
            print("notes:", exc.__notes__)
        os.write(2, b"restored\\n")
    """)
    assert result.returncode == 0, result.stderr
    assert "unsupported op" in result.stdout and "conversion failed" not in result.stderr
    assert "restored" in result.stderr


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "100"])
def test_bad_max_chars(bad):
    with pytest.raises(ValueError, match=r"max_chars must be an int of at least 1 \(characters of log kept .*, got"):
        with tflite.native_logs_silenced(max_chars=bad):
            pass
