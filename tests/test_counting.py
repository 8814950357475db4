"""What "how many" counts may be named otherwise in the article: "soldiers" asked, "troops" written."""

from __future__ import annotations

import pytest

from assistant.embeddings import MiniLMEmbedder
from assistant.features import KIN_SIMILARITY, VectorCache, counted_after, counts, kin
from assistant.questions import counted_noun, counted_word

# The calibration set of KIN_SIMILARITY, written for it (news nouns, none from the eval questions): pairs naming
# the same kind of thing, and pairs of neighbours that must not be read as one.
SAME = [("soldiers", "troops"), ("fighters", "militants"), ("cars", "vehicles"), ("deaths", "fatalities"),
        ("homes", "houses"), ("children", "kids"), ("physicians", "doctors"), ("jets", "aircraft"),
        ("missiles", "rockets"), ("votes", "ballots"), ("employees", "workers"), ("companies", "firms"),
        ("migrants", "immigrants"), ("guns", "firearms"), ("students", "pupils"), ("judges", "justices"),
        ("lawmakers", "legislators"), ("ships", "vessels"), ("cops", "officers"), ("buildings", "structures")]
DIFFERENT = [("soldiers", "civilians"), ("drones", "troops"), ("votes", "seats"), ("dollars", "euros"),
             ("cars", "trucks"), ("deaths", "injuries"), ("homes", "schools"), ("children", "adults"),
             ("doctors", "nurses"), ("missiles", "drones"), ("employees", "customers"), ("companies", "banks"),
             ("migrants", "citizens"), ("guns", "knives"), ("students", "teachers"), ("judges", "lawyers"),
             ("lawmakers", "voters"), ("ships", "ports"), ("officers", "suspects"), ("buildings", "streets"),
             ("people", "drones"), ("years", "months"), ("protesters", "police"), ("seats", "parties"),
             ("miles", "kilometers")]


def test_the_counted_word_is_the_head_as_written() -> None:
    assert counted_word("How many U.S. soldiers were stationed in Iraq?") == "soldiers"
    assert counted_noun("How many U.S. soldiers were stationed in Iraq?") == "soldier"
    assert counted_word("When did it happen?") is None


def test_a_count_is_read_from_the_words_after_a_number() -> None:
    sentence = "Washington had about 2,500 troops in the country in 2021."
    assert "troops" in counted_after(sentence) and "washington" not in counted_after(sentence)
    assert counts(sentence, "troop") and not counts(sentence, "soldier")
    assert counts(sentence, "soldier", frozenset({"troop"}))


@pytest.mark.integration
def test_kin_threshold_keeps_every_neighbour_apart(minilm: MiniLMEmbedder) -> None:
    cache = VectorCache(minilm)
    words = sorted({w for pair in SAME + DIFFERENT for w in pair})
    vectors = cache.get(words)

    def cos(a: str, b: str) -> float:
        return float(vectors[a] @ vectors[b])

    assert all(cos(a, b) < KIN_SIMILARITY for a, b in DIFFERENT)  # no neighbour read as the same kind
    assert sum(cos(a, b) >= KIN_SIMILARITY for a, b in SAME) >= len(SAME) // 2  # and half the synonyms found
    sentences = ["Washington had about 2,500 troops there.", "Three drones were launched.",
                 "In 2020, 12 civilians died."]
    assert kin("soldiers", sentences, cache.get) == frozenset({"troop"})


@pytest.mark.integration
def test_a_count_of_the_same_kind_is_a_side_and_a_lead(minilm: MiniLMEmbedder) -> None:
    from assistant.disagreement import Sides
    from assistant.questions import Question

    sides = Sides(VectorCache(minilm).get)
    question = Question.of("How many U.S. soldiers were stationed in Iraq?")
    quote = "Washington was estimated to have about 2,500 troops in the country at the time."
    assert [s.text for s in sides.of(question, quote)] == ["about 2,500"]
    assert sides.of(question, "Three drones were launched at the residence.") == []


@pytest.mark.integration
def test_the_learned_features_read_the_same_count(minilm: MiniLMEmbedder) -> None:
    import numpy as np

    from assistant.features import SENTENCE_FEATURES, candidates, embed, featurize
    from assistant.models import Passage
    from assistant.questions import Question

    cache = VectorCache(minilm)
    passage = Passage(chunk_id="a:0", source_id="a", title="Troops",
                      text="Washington was estimated to have about 2,500 troops in the country at the time.")
    cands = candidates([passage])
    embed(cands, cache)
    question = Question.of("How many U.S. soldiers were stationed in Iraq?")
    q_vec = np.asarray(minilm.embed_query(question.text), dtype=np.float32)
    missing = SENTENCE_FEATURES.index("number_missing")
    assert featurize(question, q_vec, cands)[0, missing] == 1.0  # without word vectors: no count of soldiers
    assert featurize(question, q_vec, cands, cache.get)[0, missing] == 0.0  # troops are soldiers
