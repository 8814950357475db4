"""Countries by the names news uses for them.

A capital stands for its country's government ("Tehran said", "Washington blamed ..."), so term overlap reads a
capital as its country. Names, capitals and peoples ("Iraqi", "Americans") together tell a place word from a
person's name (a pronoun's referent). The table comes from the `countryinfo` package (MIT licence), not from a list
written for any corpus.
"""

from __future__ import annotations

from functools import lru_cache

# Capitals left out, read by hand from the package's one-word capitals: those that are also an everyday English
# word or a common given name ("Victoria", "Hamilton", "Lima"), and those whose status is disputed (a match must
# not take a side). The US is handled by terms.canonical ("Washington", "American", "U.S.").
_AMBIGUOUS = frozenset({
    "sofia", "victoria", "kingston", "georgetown", "hamilton", "plymouth", "santiago", "lima", "sucre", "roseau",
    "valletta", "moroni", "jerusalem", "ramallah",
})


@lru_cache(maxsize=1)
def _countries() -> list[tuple[str, str, str]]:
    """(name, capital, demonym) of each country the package knows, lower case, "" where it has none."""
    import countryinfo

    def text(value: object) -> str:  # a country with several capitals gives a list: none of them is "the" capital
        return value.strip().lower() if isinstance(value, str) else ""

    return [(text(c.name()), text(c.capital()), text(c.demonym())) for c in countryinfo.all_countries()]


@lru_cache(maxsize=1)
def _capitals() -> dict[str, str]:
    # Capitals only: a demonym is mostly an adjective ("Iraqi officials"), and reading it as the country made every
    # mention of the country match (on the dev phrasings it answered more wrongly than it found).
    return {capital: name for name, capital, _ in _countries()
            if name and " " not in name and capital and " " not in capital and capital not in _AMBIGUOUS}


@lru_cache(maxsize=1)
def _place_words() -> frozenset[str]:
    words: set[str] = set()
    for name, capital, demonym in _countries():
        for form in (name, capital, demonym, f"{demonym}s" if demonym else ""):
            words.update(form.split())
    return frozenset(words - {"", "of", "the", "and", "republic", "islands", "island", "saint", "new"})


def country_of(word: str) -> str | None:
    """The one-word country a lower-case word names by its capital ("tehran" -> "iran"), else None."""
    return _capitals().get(word.lower())


def is_place_word(word: str) -> bool:
    """Whether a word is part of a country's name, capital or people ("Iran", "Baghdad", "Iraqi", "Americans")."""
    return word.lower().strip(".'") in _place_words()
