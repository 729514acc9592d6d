"""Plumbing for the TensorFlow Lite labs: keep the converter's native log lines out of the notebook.

    from helpers import tflite

    with tflite.native_logs_silenced():
        flatbuffer = converter.convert()

The TensorFlow Lite converter is C++ code that writes warnings ("Ignored output_format", with a timestamp and a
thread id) straight to the process's standard error, below Python: ``warnings`` and ``logging`` filters do not
reach them, and Jupyter shows them in red under the cell. The context manager points file descriptor 2 at a
temporary file while the block runs and puts it back afterwards; when the block raises, the captured lines are
attached to the exception so nothing that explains a failure is lost.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

from helpers.arguments import whole

__all__ = ["native_logs_silenced"]


@contextlib.contextmanager
def native_logs_silenced(max_chars: int = 4000) -> Iterator[None]:
    """Hide what native code writes to standard error (file descriptor 2) during the ``with`` block.

    Args:
        max_chars: how much of the captured output (its end) is attached to an exception raised in the block.

    Raises:
        ValueError: ``max_chars`` is not a positive int.
        Whatever the block raises, with the captured native output added as a note (``e.__notes__``).

    Introduced in course3_modeling/C3_W2_Lab_3_Quantization_and_Pruning.ipynb.
    """
    whole("max_chars", max_chars, advice="characters of log kept on error")
    with contextlib.suppress(Exception):
        sys.stderr.flush()  # what Python already wrote goes where it was meant to go
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException as exc:
            os.dup2(saved, 2)
            capture.seek(0)
            text = capture.read().decode(errors="replace")[-max_chars:].strip()
            if text and hasattr(exc, "add_note"):
                exc.add_note(f"native log of the failed block (last {max_chars} characters):\n{text}")
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
