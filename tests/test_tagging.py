"""Parts of speech as the question reader uses them: Brill's lexicon, unpacked by setup, run by NLTK."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import lexicon, tagging
from assistant.lexicon import LexiconMissing
from assistant.tagging import ends_noun_phrase, tag


def test_words_get_their_most_frequent_tag_and_unknown_ones_a_guess() -> None:
    tagged = tag("Did any group take credit for the Kadhimiyyah attack?")
    assert [w for w, _ in tagged] == ["Did", "any", "group", "take", "credit", "for", "the", "Kadhimiyyah", "attack",
                                      "?"]
    pos = dict(tagged)
    assert (pos["take"], pos["group"], pos["for"], pos["the"]) == ("VB", "NN", "IN", "DT")
    assert pos["Kadhimiyyah"] == "NNP"  # not in the lexicon: capitalised, read as a name
    assert dict(tag("Which state cast their ballots?"))["cast"] == "NN"  # its most frequent use, whatever follows


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
    assert ends_noun_phrase(tagged, [w for w, _ in tagged].index(word)) is ends


def test_a_missing_tagger_says_how_to_install_it_and_callers_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(lexicon, "WORDNET_DIR", tmp_path)
    tagging._tagger.cache_clear()
    tagging.tag.cache_clear()
    tagging._warn_missing.cache_clear()
    try:
        with pytest.raises(LexiconMissing, match="run `make setup`"):
            tag("Which state?")
        assert tagging.tag_or_none("Which state?") is None
        assert "make setup" in caplog.text
    finally:
        tagging._tagger.cache_clear()
        tagging.tag.cache_clear()
