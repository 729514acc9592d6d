"""Why a JSON body is refused, read from its raw bytes before anything parses it: nesting too deep, too many
values (``scan_json``), numbers JSON does not have (``non_finite_json``).

Used by the middlewares of ``helpers.serving.limits`` and by the TF Serving server's request parser;
re-exported by ``helpers.serving``.
"""

from __future__ import annotations

import json
import math
import re

# --- JSON that costs more to parse than it is worth ----------------------------------------------------

_TOKENS = re.compile(rb'[\[\]{}",\\]')
_STRING = re.compile(rb'"[^"]*"')  # a string without escapes: linear, it cannot backtrack past a quote
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def scan_json(body: bytes, max_depth: int, max_values: int, advice: str = "send a smaller batch") -> str | None:
    """Why ``body`` is refused (nesting deeper than ``max_depth``, more than ``max_values`` values), or None.

    A scan of the raw bytes, without parsing them (brackets and commas inside strings do not count), that
    stops at the first limit passed; json.loads and pydantic then never see a body that would cost them
    dearly. Values are counted by their separating commas. ``advice`` ends the too-many-values message.

    Introduced in course4_deployment/C4_W2_Lab_1_FastAPI_Batching.ipynb.
    """
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError(f"body must be bytes, got {type(body).__name__}")
    too_deep = f"JSON nested deeper than the limit of {max_depth} levels; send a flat batch"
    too_many = f"JSON with more than the limit of {max_values} values; {advice}"
    if b"\\" in body:  # escaped characters in strings: the careful scan, token by token
        return _scan_escaped(bytes(body), max_depth, max_values, too_deep, too_many)
    outside = _STRING.sub(b'""', body)  # drop the strings' contents (C speed)
    if outside.count(b",") + 1 > max_values:
        return too_many
    depth = 0
    for byte in outside.translate(None, _NOT_BRACKETS):  # only the brackets are left
        depth += 1 if byte in b"[{" else -1
        if depth > max_depth:
            return too_deep
    return None


def _scan_escaped(body: bytes, max_depth: int, max_values: int, too_deep: str, too_many: str) -> str | None:
    depth, values, in_string, skip = 0, 1, False, -1
    for match in _TOKENS.finditer(body):
        position, token = match.start(), match.group()
        if position < skip:
            continue  # the character after a backslash in a string
        if in_string:
            if token == b"\\":
                skip = position + 2
            elif token == b'"':
                in_string = False
        elif token == b'"':
            in_string = True
        elif token in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                return too_deep
        elif token in (b"]", b"}"):
            depth -= 1
        elif token == b",":
            values += 1
            if values > max_values:
                return too_many
    return None


# --- numbers that JSON does not have -----------------------------------------------------------------

_SUSPECT = re.compile(rb"NaN|Infinity|[eE]\+?\d{3}|\d{309}")  # cheap: most bodies never get parsed here
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NOT_IN_JSON = ("JSON has no NaN, Infinity or -Infinity, and no number beyond a double's range (about "
               "1.8e308); send a finite number")


class _Bad:
    """A number token JSON does not have, kept as written, while the body is parsed."""

    def __init__(self, text: str) -> None:
        self.text = text


def _number(text: str) -> float | _Bad:
    return _Bad(text) if math.isinf(float(text)) else 0.0  # float("1e999") and float("1" * 400) are inf


def non_finite_json(body: bytes) -> str | None:
    """Why a JSON ``body`` is refused (a ``NaN``, ``Infinity``, ``-Infinity`` or a number that overflows a
    double, with the field or position where it is), or None.

    Python's ``json`` module reads these tokens although JSON has no such values; a FastAPI service would
    then fail to validate them, and fail again to write its validation error (JSON cannot carry them):
    a 500. Bodies without a suspect token (``NaN``, ``Infinity``, a three-digit exponent, 309 digits in a
    row) are not parsed here. A body that is not valid JSON is left to the app (None).

    Introduced in course4_deployment/C4_W2_Lab_1_FastAPI_Batching.ipynb.
    """
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError(f"body must be bytes, got {type(body).__name__}")
    if not _SUSPECT.search(body):
        return None
    try:
        doc = json.loads(body, parse_constant=_Bad, parse_float=_number, parse_int=_number)
    except (ValueError, RecursionError):
        return None
    stack: list[tuple[object, str]] = [(doc, "")]
    while stack:  # depth first, in the order the values are written
        value, where = stack.pop()
        if isinstance(value, _Bad):
            shown = value.text if len(value.text) <= 24 else value.text[:20] + "..."
            if not where:
                place = "as the whole body"
            elif _NAME.fullmatch(where):
                place = f"in field {where!r}"
            else:
                place = f"at {where}"
            return f"{shown} {place} is not a JSON number: {NOT_IN_JSON}"
        if isinstance(value, dict):
            items = [(v, f"{where}.{k}" if where and _NAME.fullmatch(k) else
                      (k if not where and _NAME.fullmatch(k) else f"{where}[{json.dumps(k)}]"))
                     for k, v in value.items()]
        elif isinstance(value, list):
            items = [(v, f"{where}[{i}]") for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(items))
    return None
