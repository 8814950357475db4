"""A country named by its capital is the same actor: "Tehran said" is Iran speaking."""

from __future__ import annotations

import pytest

from assistant.places import country_of, is_place_word
from assistant.terms import canonical, content_terms, term_set


@pytest.mark.parametrize(("capital", "country"), [("tehran", "iran"), ("Baghdad", "iraq"), ("moscow", "russia"),
                                                  ("kyiv", "ukraine"), ("damascus", "syria")])
def test_a_capital_names_its_country(capital: str, country: str) -> None:
    assert country_of(capital) == country
    assert canonical(capital) == canonical(country)


@pytest.mark.parametrize("word", ["victoria", "hamilton", "polish", "jerusalem", "iranian", "minister", "drone"])
def test_everyday_words_given_names_disputed_capitals_and_demonyms_are_no_country(word: str) -> None:
    assert country_of(word) is None


def test_a_reader_saying_tehran_matches_an_article_saying_iran() -> None:
    assert "iran" in set(content_terms("Who does Tehran blame?")) & term_set("Iran's leaders blamed the US.")
    assert "iran" not in term_set("Iraqi officials blamed Baghdad's rivals.")


@pytest.mark.parametrize(("word", "place"), [("Iraqi", True), ("Americans", True), ("Baghdad", True), ("Iran", True),
                                              ("Khazali", False), ("Trump", False), ("Biden", False)])
def test_place_words_are_told_from_names(word: str, place: bool) -> None:
    assert is_place_word(word) is place
