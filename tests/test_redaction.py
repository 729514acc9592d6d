"""Tests of helpers.redaction (the offline stand-in for a DLP service's inspect and redact)."""

from __future__ import annotations

import pytest

from helpers import redaction


def test_inspect_finds_each_info_type_with_its_position():
    text = "Jane (jane.doe@example.com, 555-010-0123) SSN 123-45-6789; call +1 (555) 010-0199."
    findings = redaction.inspect_text(text)
    assert [(f["info_type"], f["quote"]) for f in findings] == [
        ("EMAIL_ADDRESS", "jane.doe@example.com"), ("PHONE_NUMBER", "555-010-0123"),
        ("US_SOCIAL_SECURITY_NUMBER", "123-45-6789"), ("PHONE_NUMBER", "+1 (555) 010-0199")]
    assert all(text[f["start"]:f["end"]] == f["quote"] for f in findings)


def test_plain_numbers_and_text_are_left_alone():
    for text in ("age 39, 40 hours a week", "order 1234567", "2024-01-15", "version 1.2.3", ""):
        assert redaction.inspect_text(text) == [] and redaction.redact_text(text) == text


def test_redact_text_replaces_findings_with_their_type():
    assert (redaction.redact_text("mail a@b.org or ring 555.010.0100")
            == "mail [EMAIL_ADDRESS] or ring [PHONE_NUMBER]")


def test_redact_record_walks_nested_values_and_replaces_whole_fields():
    record = {"id": "r-1", "age": 39, "client": {"name": "Jane Doe", "email": "jane@example.com",
                                                 "note": ["call 555-010-0123", None]}}
    out = redaction.redact_record(record, whole_fields={"name": "PERSON_NAME"})
    assert out == {"id": "r-1", "age": 39, "client": {"name": "[PERSON_NAME]", "email": "[EMAIL_ADDRESS]",
                                                      "note": ["call [PHONE_NUMBER]", None]}}
    assert record["client"]["name"] == "Jane Doe", "the input is not changed"


def test_bad_inputs_are_refused():
    with pytest.raises(TypeError):
        redaction.inspect_text(42)
    with pytest.raises(TypeError):
        redaction.redact_record(["a@b.org"])
