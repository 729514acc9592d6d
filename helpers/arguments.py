"""One way to check an argument and to read a limit from the environment, with one wording for every error.

    from helpers.arguments import whole, number, env_whole

    whole("replicas", replicas)                 # an int of at least 1 (never a bool)
    whole("port", port, 1, 65535, "or None for a free port")
    number("timeout", timeout)                  # a finite number above 0
    number("tolerance", tolerance, positive=False)  # a finite number of at least 0
    MAX_BATCH = env_whole("WINE_MAX_BATCH", 256)  # a positive whole number from the environment, or the default

Every check returns the value it accepted and raises ``ValueError`` whose message names the argument, what it
must be, and what it got: ``replicas must be an int of at least 1, got 0``.

Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb (shared by every module that takes a count, a
size, a port or a duration).
"""

from __future__ import annotations

import math
import os


def whole(name: str, value: object, low: int = 1, high: int | None = None, advice: str = "") -> int:
    """``value`` if it is an int (not a bool) from ``low`` to ``high`` (no upper bound when None)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high):
        return value
    span = f"from {low} to {high}" if high is not None else f"of at least {low}"
    raise ValueError(f"{name} must be an int {span}{f' ({advice})' if advice else ''}, got {value!r}")


def number(name: str, value: object, positive: bool = True) -> float:
    """``value`` as a float if it is a finite int or float (not a bool) above 0 (``positive``) or at least 0."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
            and (value > 0 if positive else value >= 0):
        return float(value)
    raise ValueError(f"{name} must be a finite number {'above' if positive else 'of at least'} 0, got {value!r}")


def env_whole(variable: str, default: int) -> int:
    """The positive whole number in the environment variable ``variable``, or ``default`` when it is unset."""
    text = os.environ.get(variable)
    if text is None:
        return default
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"{variable} must be a whole number of at least 1, got {text!r} "
                         f"(unset it for the default, {default})")
    return int(text)
