"""The shared argument checks (helpers/arguments.py): one wording, the value returned, bools refused."""

import math

import pytest

from helpers.arguments import env_whole, number, whole


def test_whole_accepts_and_returns_ints_in_range() -> None:
    assert whole("n", 1) == 1
    assert whole("n", 0, low=0) == 0
    assert whole("port", 65535, 1, 65535) == 65535


@pytest.mark.parametrize("value, low, high, message", [
    (0, 1, None, "n must be an int of at least 1, got 0"),
    (True, 1, None, "n must be an int of at least 1, got True"),
    (2.0, 1, None, "n must be an int of at least 1, got 2.0"),
    ("3", 1, None, "n must be an int of at least 1, got '3'"),
    (17, 1, 16, "n must be an int from 1 to 16, got 17"),
])
def test_whole_refuses_with_one_wording(value, low, high, message) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        whole("n", value, low, high)


def test_whole_adds_advice() -> None:
    with pytest.raises(ValueError, match=r"port must be an int from 1 to 65535 \(or None for a free port\), got 0"):
        whole("port", 0, 1, 65535, "or None for a free port")


def test_number() -> None:
    assert number("t", 2) == 2.0 and isinstance(number("t", 2), float)
    assert number("t", 0, positive=False) == 0.0
    for bad in (0, -1, math.nan, math.inf, True, "1", None):
        with pytest.raises(ValueError, match="t must be a finite number above 0, got"):
            number("t", bad)
    with pytest.raises(ValueError, match="t must be a finite number of at least 0, got -0.5"):
        number("t", -0.5, positive=False)


def test_env_whole(monkeypatch) -> None:
    monkeypatch.delenv("LIMIT_X", raising=False)
    assert env_whole("LIMIT_X", 7) == 7
    monkeypatch.setenv("LIMIT_X", "12")
    assert env_whole("LIMIT_X", 7) == 12
    for bad in ("0", "-3", "1.5", "lots", ""):
        monkeypatch.setenv("LIMIT_X", bad)
        with pytest.raises(ValueError, match=r"LIMIT_X must be a whole number of at least 1, got .* \(unset it for"):
            env_whole("LIMIT_X", 7)
