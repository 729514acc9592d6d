"""Sensor signals: parse and write WISDM-style accelerometer lines.

The WISDM activity-recognition file holds one reading per line, ``user,activity,timestamp,x,y,z;``, and real
copies of it carry malformed lines (missing fields, non-numeric values, empty lines). ``parse_wisdm_line``
turns one line into a record or raises ``MalformedRecord`` saying what is wrong, so a pipeline can set the
line aside instead of dropping it silently.

Introduced in course2_data/C2_W4_Lab_2_Signals.ipynb.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["WISDM_FIELDS", "MalformedRecord", "format_wisdm_line", "parse_wisdm_line"]

WISDM_FIELDS = ("user", "activity", "timestamp", "x", "y", "z")


class MalformedRecord(ValueError):
    """A line that is not ``user,activity,timestamp,x,y,z;`` (the message says which part is wrong)."""


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

