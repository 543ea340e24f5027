"""Month names and roman numerals, read one way by every reader of the official texts."""

from __future__ import annotations

import pytest

from tariffstack.words import month_number, roman_value


@pytest.mark.parametrize("name, n", [("April", 4), ("apr.", 4), ("Sept.", 9), ("SEPTEMBER", 9),
                                     ("may", 5), ("Dec", 12)])
def test_month_number(name: str, n: int) -> None:
    assert month_number(name) == n


@pytest.mark.parametrize("name", ["Ap", "Mayday", "", "13"])
def test_not_a_month(name: str) -> None:
    with pytest.raises(ValueError, match="not a month"):
        month_number(name)


@pytest.mark.parametrize("text, n", [("i", 1), ("iv", 4), ("xiii", 13), ("xix", 19), ("XV", 15),
                                     ("xlix", 49), ("lxxxix", 89), ("mcmxc", 1990)])
def test_roman_value(text: str, n: int) -> None:
    assert roman_value(text) == n


@pytest.mark.parametrize("text", ["", "iiii", "vx", "abc", "il"])
def test_not_roman(text: str) -> None:
    assert roman_value(text) is None
