"""Find and redact personal data in text and log records: a small, offline stand-in for a DLP service.

Google Cloud's Data Loss Prevention API *inspects* text for info types (an e-mail address, a phone
number ...) and *redacts* them by replacing each finding with its info type's name. These functions do the
same with regular expressions for three info types whose shape is regular; names, addresses and other
free-form data need the trained detectors of a real DLP service, so a field known to hold them is
replaced whole (``redact_record``'s ``whole_fields``).

Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

INFO_TYPES: dict[str, re.Pattern] = {
    "EMAIL_ADDRESS": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    "US_SOCIAL_SECURITY_NUMBER": re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)"),
    "PHONE_NUMBER": re.compile(r"(?<![\w-])(?:\+1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]\d{4}(?![\w-])"),
}


def inspect_text(text: str) -> list[dict]:
    """The personal data found in ``text``: one ``{"info_type", "quote", "start", "end"}`` per finding, in order.

    Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    findings: list[dict] = []
    for info_type, pattern in INFO_TYPES.items():
        for match in pattern.finditer(text):
            if not any(f["start"] < match.end() and match.start() < f["end"] for f in findings):
                findings.append({"info_type": info_type, "quote": match.group(), "start": match.start(),
                                 "end": match.end()})
    return sorted(findings, key=lambda f: f["start"])


def redact_text(text: str) -> str:
    """``text`` with every finding of ``inspect_text`` replaced by its info type in brackets (``[EMAIL_ADDRESS]``).

    Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
    """
    for finding in reversed(inspect_text(text)):
        text = text[:finding["start"]] + f"[{finding['info_type']}]" + text[finding["end"]:]
    return text


def redact_record(record: Mapping, whole_fields: Mapping[str, str] | None = None) -> dict:
    """A copy of ``record`` (nested dicts and lists too) with personal data redacted.

    A key listed in ``whole_fields`` has its value replaced whole by ``[INFO_TYPE]`` (for data no pattern
    finds, such as a person's name); every other string is passed through ``redact_text``.

    Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
    """
    whole_fields = dict(whole_fields or {})

    def walk(value, key=None):
        if key in whole_fields and value is not None:
            return f"[{whole_fields[key]}]"
        if isinstance(value, str):
            return redact_text(value)
        if isinstance(value, Mapping):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        return value

    if not isinstance(record, Mapping):
        raise TypeError(f"record must be a mapping, got {type(record).__name__}")
    return walk(record)
