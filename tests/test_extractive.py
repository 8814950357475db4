"""The extractive answerer picks sentences that answer the question, cites them, and refuses on weak evidence."""

from __future__ import annotations

import numpy as np

from assistant.conversation import Query
from assistant.extractive import NOT_FOUND, ExtractiveGenerator
from assistant.features import VectorCache
from assistant.generation import ground
from assistant.models import Answer, Citation, Passage
from assistant.terms import canonical, is_agent, question_subject

from .fakes import FakeEmbedder

IRAN = Passage(
    chunk_id="a::1", source_id="a", title="Iran looks to shift blame", outlet=None,
    text="Iran on Sunday blamed the United States for the drone attack on the residence. "
    "The weather in Baghdad was mild that day.",
)
GENERAL = Passage(
    chunk_id="b::1", source_id="b", title="Iraq report", outlet="Press TV",
    text="Gen. Frank McKenzie blamed the drone attack on Iranian-backed militia groups. "
    "Iran has been blamed for the drone attack by several officials.",
)


def test_subject_of_question_matters() -> None:
    assert question_subject("Who did Iran blame?") == {"iran"}
    assert not is_agent("Iran has been blamed for the drone attack.", {"iran"})
    assert is_agent("Iran on Sunday blamed the United States.", {"iran"})
    assert not is_agent("McKenzie blamed Iranian-backed militia groups.", {"iran"})


def test_a_word_starting_with_of_is_no_subject() -> None:
    # "often" began with the "of" that joins names ("Prime Minister of Iraq"): the subject was "of" alone, no name,
    # and reading it raised IndexError, so the question could not be answered at all
    assert question_subject("Who has often criticised Kadhimi?") == set()
    assert question_subject("Who has officially condemned the attack?") == set()
    assert question_subject("What did the Prime Minister of Iraq say?") == {canonical("Prime"), canonical("Minister"),
                                                                            canonical("Iraq")}


def test_answer_cites_the_sentence_whose_subject_matches() -> None:
    gen = ExtractiveGenerator(FakeEmbedder(), min_score=0.2)
    answer = gen.answer(Query.plain("Who did Iran blame for the drone attack?"), [GENERAL, IRAN])
    assert answer.found
    assert answer.citations[0].source_id == "a"
    assert answer.citations[0].quote == "Iran on Sunday blamed the United States for the drone attack on the residence."
    assert "[1]" in answer.text and answer.text.count("[") == len(answer.citations)
    assert all(c.quote in IRAN.text + GENERAL.text for c in answer.citations)


def test_answer_names_its_sources() -> None:
    gen = ExtractiveGenerator(FakeEmbedder(), min_score=0.2)
    answer = gen.answer(Query.plain("Who blamed the drone attack on militia groups?"), [GENERAL, IRAN])
    assert answer.citations[0].source_id == "b"
    # the outlet carries the claim; the general makes it
    assert answer.text.split("\n")[0].lstrip("- ").startswith("Press TV, citing Gen. Frank McKenzie: Gen. Frank")
    assert answer.citations[0].speaker == "Gen. Frank McKenzie"


def test_weak_evidence_is_not_found() -> None:
    answer = ExtractiveGenerator(FakeEmbedder()).answer(Query.plain("What is the capital of France?"), [IRAN, GENERAL])
    assert answer == Answer(text=NOT_FOUND, citations=[], found=False)


def test_a_refusal_points_to_the_closest_passage_of_each_source_but_never_cites_it() -> None:
    strict = ExtractiveGenerator(FakeEmbedder(), min_score=0.99)  # nothing is close enough to answer
    refused = strict.answer(Query.plain("Who blamed the drone attack on militia groups?"), [GENERAL, IRAN])
    assert not refused.found and refused.citations == [] and refused.text == NOT_FOUND
    # the best candidate of each source, best first, numbered apart from any citation, with whose claim it is
    assert [(c.marker, c.source_id) for c in refused.nearest] == [(1, "b"), (2, "a")]
    assert refused.nearest[0].quote.startswith("Gen. Frank McKenzie blamed") and refused.nearest[0].speaker
    assert all(c.quote in GENERAL.text + IRAN.text for c in refused.nearest)
    # ground holds the closest passages to the same test as citations: verbatim in the source they name
    forged = refused.model_copy(update={"nearest": [*refused.nearest, refused.nearest[1].model_copy(
        update={"marker": 3, "quote": "Iran admitted it ordered the attack."})]})
    assert ground(forged, [GENERAL, IRAN]).nearest == refused.nearest
    # a passage no closer than an off-topic one is not offered
    off_topic = strict.answer(Query.plain("What is the capital of France?"), [GENERAL, IRAN])
    assert not off_topic.found and off_topic.nearest == []


def test_ground_drops_quotes_not_in_the_passages() -> None:
    fabricated = Answer(
        text="- x: Iran on Sunday blamed the United States [1]\n- y: Iran admitted it [2]",
        citations=[
            Citation(marker=1, source_id="a", title="t", quote="Iran on Sunday blamed the United States"),
            Citation(marker=2, source_id="a", title="t", quote="Iran admitted it ordered the attack."),
        ],
    )
    grounded = ground(fabricated, [IRAN])
    assert [c.marker for c in grounded.citations] == [1] and "[2]" not in grounded.text
    wrong_source = Answer(text="z [1]", citations=[Citation(marker=1, source_id="b", title="t",
                                                            quote="Iran on Sunday blamed the United States")])
    assert ground(wrong_source, [IRAN, GENERAL]).found is False


def test_agent_check_reads_voice_and_prepositions() -> None:
    iran = {"iran"}
    assert is_agent("Iran is now strongly suggesting that the United States was behind it.", iran)
    assert is_agent("Iran has denied any role.", iran)
    assert not is_agent("US officials admitted that Iran was unlikely to sanction the attack.", iran)
    assert not is_agent("Officials blamed the attack on Iran.", iran)


def test_vector_cache_stays_bounded_and_keeps_what_the_question_needs() -> None:
    embedder = FakeEmbedder()
    cache = VectorCache(embedder, capacity=10)
    for i in range(5):
        got = cache.get([f"sentence number {i} {j}" for j in range(8)])
        assert len(got) == 8 and len(cache) <= 10  # every text asked for is returned, whatever was evicted
    again = cache.get(["sentence number 4 7"])
    assert np.allclose(again["sentence number 4 7"], embedder.embed_query("sentence number 4 7"))


def test_the_default_answerer_survives_a_cache_filled_past_its_bound() -> None:
    gen = ExtractiveGenerator(FakeEmbedder())
    gen._cache.capacity = 3  # far fewer than one question's sentences and clauses
    for question in ["Who did Iran blame for the drone attack?", "Who blamed the drone attack on militia groups?"]:
        assert gen.answer(Query.plain(question), [GENERAL, IRAN]).found
    assert len(gen._cache) <= 3


def test_a_count_the_quotes_agree_on_leads_the_answer() -> None:
    troops = Passage(chunk_id="c::1", source_id="c", title="US troops", outlet="Sputnik International",
                     text="Washington was estimated to have about 2,500 troops in the country at the time.")
    gen = ExtractiveGenerator(FakeEmbedder(), min_score=0.0, leads=False)
    answer = gen.answer(Query.plain("About how many American troops were in Iraq?"), [troops])
    assert answer.found and answer.lead == "about 2,500 [1]"
    assert answer.text.split("\n")[0] == answer.lead
    # nothing counted, nothing led with: a question that is not "how many" gets no count
    other = gen.answer(Query.plain("What was Washington estimated to have in the country?"), [troops])
    assert other.found and other.lead is None


def test_a_no_the_quotes_agree_on_leads_a_yes_or_no_question_in_their_words() -> None:
    said = Passage(chunk_id="a::1", source_id="a", title="Address", outlet="Press TV",
                   text="Mr. Kadhimi, who addressed the nation on television, said he wasn't hurt.")
    military = Passage(chunk_id="b::1", source_id="b", title="Statement", outlet="Sputnik International",
                       text="The military said Kadhimi was unharmed in the attack on his residence.")
    gen = ExtractiveGenerator(FakeEmbedder(), min_score=0.0, leads=False)
    answer = gen.answer(Query.plain("Was Kadhimi hurt in the attack?"), [said, military])
    assert answer.found and answer.lead is not None and answer.text.split("\n")[0] == answer.lead
    words, markers = answer.lead.rsplit(" ", 1)
    assert words in ("No: wasn't hurt", "No: unharmed")  # verbatim from a cited quote
    assert markers == "".join(f"[{c.marker}]" for c in answer.citations)  # every quote that says no
    # a yes is read from the asked-about word alone, which a quote on something else may hold too: never a lead
    cut = said.model_copy(update={"text": "Mr. Kadhimi suffered only a light cut on his hand in the attack."})
    assert gen.answer(Query.plain("Was Kadhimi hurt in the attack?"), [cut]).lead is None
