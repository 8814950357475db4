"""Brill's tagger as the question reader uses it: unpacked by setup, run by NLTK, read in context."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import lexicon, tagging
from assistant.lexicon import LexiconMissing
from assistant.tagging import ends_noun_phrase, tag


def test_words_get_their_tag_in_context_and_their_most_frequent_one() -> None:
    tagged = tag("Did any group take credit for the attack?")
    words = [w for w, _, _ in tagged]
    assert words == ["Did", "any", "group", "take", "credit", "for", "the", "attack", "?"]
    by_word = {w: (context, first) for w, context, first in tagged}
    assert by_word["take"][1] == "VB" and by_word["group"] == ("NN", "NN") and by_word["the"] == ("DT", "DT")


def test_contextual_rules_apply() -> None:
    # "cast" is a noun by its most frequent use; Brill's rules read it as a verb before "their"
    by_word = {w: (context, first) for w, context, first in tag("Which state cast their ballots?")}
    assert by_word["cast"] == ("VBG", "NN")


@pytest.mark.parametrize(("question", "word", "ends"), [
    ("Which model plays Elton John?", "plays", True),  # a verb by use
    ("Which state cast their ballots?", "cast", True),  # a possessive follows: only a verb takes one
    ("Which airline recently shut down?", "recently", True),  # an adverb before a verb
    ("Which large fast food chain?", "fast", False),  # an adverb by use, before a noun
    ("Which US state was struck?", "state", False),  # a noun, whatever the rules say after "US"
    ("Which birthday milestone this month?", "milestone", False),  # "this month" is no object
])
def test_what_ends_a_noun_phrase(question: str, word: str, ends: bool) -> None:
    tagged = tag(question)
    assert ends_noun_phrase(tagged, [w for w, _, _ in tagged].index(word)) is ends


def test_a_missing_tagger_says_how_to_install_it_and_callers_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(lexicon, "WORDNET_DIR", tmp_path)
    tagging._tagger.cache_clear()
    tagging.tag.cache_clear()
    try:
        with pytest.raises(LexiconMissing, match="run `make setup`"):
            tag("Which state?")
        assert tagging.tag_or_none("Which state?") is None
        assert "make setup" in caplog.text
    finally:
        tagging._tagger.cache_clear()
        tagging.tag.cache_clear()
