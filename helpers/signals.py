"""Sensor signals: parse WISDM-style accelerometer lines and cut fixed-length windows.

The WISDM activity-recognition file holds one reading per line, ``user,activity,timestamp,x,y,z;``, and real
copies of it carry malformed lines (missing fields, non-numeric values, empty lines). ``parse_wisdm_line``
turns one line into a record or raises ``MalformedRecord`` saying what is wrong, so a pipeline can set the
line aside instead of dropping it silently; ``sliding_windows`` cuts a recording into windows and refuses a
recording too short for one window (``EmptyWindowError``) instead of returning nothing.

Introduced in course2_data/C2_W4_Lab_2_Signals.ipynb.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["WISDM_FIELDS", "EmptyWindowError", "MalformedRecord", "format_wisdm_line", "parse_wisdm_line",
           "sliding_windows"]

WISDM_FIELDS = ("user", "activity", "timestamp", "x", "y", "z")


class MalformedRecord(ValueError):
    """A line that is not ``user,activity,timestamp,x,y,z;`` (the message says which part is wrong)."""


class EmptyWindowError(ValueError):
    """A recording too short for even one window."""


def format_wisdm_line(user: int, activity: str, timestamp: int, x: float, y: float, z: float) -> str:
    """One reading as a WISDM line, ``user,activity,timestamp,x,y,z;``.

    Introduced in course2_data/C2_W4_Lab_2_Signals.ipynb.
    """
    return f"{int(user)},{activity},{int(timestamp)},{x:.6g},{y:.6g},{z:.6g};"


def parse_wisdm_line(line: str) -> dict[str, Any]:
    """Parse one WISDM line into ``{"user": int, "activity": str, "timestamp": int, "x", "y", "z": float}``.

    The trailing ``;`` and surrounding spaces are optional. Raises ``MalformedRecord`` for an empty line,
    a wrong number of fields, an empty activity, a non-integer user or timestamp, or a non-numeric or
    non-finite coordinate.

    Introduced in course2_data/C2_W4_Lab_2_Signals.ipynb.
    """
    if not isinstance(line, str):
        raise MalformedRecord(f"expected a line of text, got {type(line).__name__}")
    text = line.strip().rstrip(";").strip()
    if not text:
        raise MalformedRecord("empty line")
    fields = [f.strip() for f in text.split(",")]
    if len(fields) != len(WISDM_FIELDS):
        raise MalformedRecord(f"expected {len(WISDM_FIELDS)} fields ({','.join(WISDM_FIELDS)}), "
                              f"got {len(fields)}: {line.strip()!r}")
    user, activity, timestamp, *coords = fields
    record: dict[str, Any] = {"activity": activity}
    if not activity:
        raise MalformedRecord(f"empty activity: {line.strip()!r}")
    for name, value in (("user", user), ("timestamp", timestamp)):
        try:
            record[name] = int(value)
        except ValueError:
            raise MalformedRecord(f"{name} is not an integer ({value!r}): {line.strip()!r}") from None
    for name, value in zip(("x", "y", "z"), coords):
        try:
            number = float(value)
        except ValueError:
            raise MalformedRecord(f"{name} is not a number ({value!r}): {line.strip()!r}") from None
        if not math.isfinite(number):
            raise MalformedRecord(f"{name} is not finite ({value!r}): {line.strip()!r}")
        record[name] = number
    return {name: record[name] for name in WISDM_FIELDS}


def sliding_windows(values: "np.ndarray", size: int, step: int) -> "np.ndarray":
    """Cut ``values`` (time along the first axis) into windows of ``size`` rows, one every ``step`` rows.

    Returns an array of shape ``(n_windows, size, *values.shape[1:])`` with
    ``n_windows = (len(values) - size) // step + 1``; the last incomplete window is dropped.
    Raises ``ValueError`` for a non-positive size or step, and ``EmptyWindowError`` when the recording has
    fewer than ``size`` rows (no window at all), naming both lengths and the fix.

    Introduced in course2_data/C2_W4_Lab_2_Signals.ipynb.
    """
    import numpy as np

    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    if isinstance(step, bool) or not isinstance(step, int) or step <= 0:
        raise ValueError(f"step must be a positive integer, got {step!r}")
    values = np.asarray(values)
    if values.ndim == 0:
        raise ValueError("values must have a time axis (at least 1-D), got a scalar")
    if len(values) < size:
        raise EmptyWindowError(f"a recording of {len(values)} samples is shorter than one window of {size}: "
                               f"no window can be cut; lower the window size or set such recordings aside")
    starts = range(0, len(values) - size + 1, step)
    return np.stack([values[s:s + size] for s in starts])
