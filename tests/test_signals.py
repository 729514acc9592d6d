"""Tests of helpers.signals: the WISDM line parser and writer, bad input included."""

import pytest

from helpers import signals


def test_round_trip_of_a_good_line():
    line = signals.format_wisdm_line(33, "Jogging", 49105962326000, -0.6946377, 12.680544, 0.50395286)
    assert line.endswith(";")
    record = signals.parse_wisdm_line(line)
    assert record == {"user": 33, "activity": "Jogging", "timestamp": 49105962326000,
                      "x": pytest.approx(-0.694638), "y": pytest.approx(12.6805), "z": pytest.approx(0.503953)}
    assert list(record) == list(signals.WISDM_FIELDS)


def test_semicolon_and_spaces_are_optional():
    assert signals.parse_wisdm_line(" 1, Walking ,2,0.5,1,-1 \n")["activity"] == "Walking"


@pytest.mark.parametrize("line, words", [
    ("", "empty line"),
    ("   ;  ", "empty line"),
    ("1,Walking,2,0.5,1;", "expected 6 fields"),
    ("1,Walking,2,0.5,1,2,3;", "got 7"),
    ("1,,2,0.5,1,2;", "empty activity"),
    ("u1,Walking,2,0.5,1,2;", "user is not an integer"),
    ("1,Walking,2.5,0.5,1,2;", "timestamp is not an integer"),
    ("1,Walking,2,abc,1,2;", "x is not a number"),
    ("1,Walking,2,0.5,,2;", "y is not a number"),
    ("1,Walking,2,0.5,1,nan;", "z is not finite"),
])
def test_malformed_lines_say_what_is_wrong(line, words):
    with pytest.raises(signals.MalformedRecord, match=words):
        signals.parse_wisdm_line(line)


def test_a_non_string_is_refused():
    with pytest.raises(signals.MalformedRecord, match="expected a line of text, got bytes"):
        signals.parse_wisdm_line(b"1,Walking,2,0.5,1,2;")

