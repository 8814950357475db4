"""The Generator contract: every answerer, fake or real, keeps the product's promises about its sources."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from assistant.conversation import Query
from assistant.embeddings import MiniLMEmbedder
from assistant.extractive import ExtractiveGenerator
from assistant.features import VectorCache
from assistant.generation import Generator, ground
from assistant.learned import LearnedGenerator
from assistant.llm import LLMGenerator
from assistant.models import Answer, Citation, Passage
from assistant.reading import ReaderGenerator
from assistant.verify import Verifier

from .fakes import FakeChat, FakeEmbedder, FakeGenerator, FakeReader

PASSAGES = [
    Passage(chunk_id="a::0", source_id="a", title="Iran looks to shift blame", outlet=None,
            text="Iran on Sunday blamed the United States for the drone attack on the residence.\n"
                 "Three drones were launched and two of them were shot down, officials said."),
    Passage(chunk_id="b::0", source_id="b", title="Iraq report", outlet="Press TV",
            text="Gen. Frank McKenzie blamed the drone attack on Iranian-backed militia groups. "
                 "At least two quadcopter drones hit the building."),
]
QUESTIONS = ["Who did Iran blame for the drone attack?", "How many drones were used?", "What is the capital of France?"]


def _fake() -> Generator:
    """Queued answers in the shape every answerer must give."""
    gen = FakeGenerator()
    for _ in QUESTIONS:
        quote = PASSAGES[0].text.split("\n")[0]
        gen.enqueue(Answer(text=f"The United States [1]\n- article a: {quote} [1]", lead="The United States [1]",
                           citations=[Citation(marker=1, source_id="a", title="t", quote=quote)]))
    return gen


_MINILM: list[MiniLMEmbedder] = []


def _minilm() -> MiniLMEmbedder:
    if not _MINILM:
        _MINILM.append(MiniLMEmbedder())
    return _MINILM[0]


# A model that writes one supported sentence, one that no passage supports and one citing a passage not given.
DRAFT = ("Iran blamed the United States for the drone attack [1]. The attack was staged by aliens [2]. "
         "Two drones were shot down [9].")


def _llm(embedder: FakeEmbedder | MiniLMEmbedder) -> Generator:
    cache = VectorCache(embedder)
    fallback = ExtractiveGenerator(embedder, min_score=0.2 if isinstance(embedder, FakeEmbedder) else 0.45)
    return LLMGenerator(FakeChat(DRAFT), cache, fallback, name="llm", verifier=Verifier(cache))


GENERATORS: list[tuple[str, Callable[[], Generator], bool]] = [  # (name, factory, uses the real model)
    ("fake", _fake, False),
    ("extractive-fake-vectors", lambda: ExtractiveGenerator(FakeEmbedder(), min_score=0.2), False),
    ("learned-fake-vectors", lambda: LearnedGenerator(FakeEmbedder()), False),
    ("reader-fake-reader", lambda: ReaderGenerator(FakeReader({"the United States": 2.0, "Three": 1.0})), False),
    ("reader", ReaderGenerator, True),
    ("extractive-minilm", lambda: ExtractiveGenerator(_minilm()), True),
    ("learned-minilm", lambda: LearnedGenerator(_minilm()), True),
    ("llm-fake-chat-fake-vectors", lambda: _llm(FakeEmbedder()), False),
    ("llm-fake-chat-minilm", lambda: _llm(_minilm()), True),
]


@pytest.fixture(
    params=[pytest.param(f, marks=[pytest.mark.integration] if real else [], id=name) for name, f, real in GENERATORS]
)
def generator(request: pytest.FixtureRequest) -> Generator:
    return request.param()  # type: ignore[no-any-return]


@pytest.mark.parametrize("question", QUESTIONS)
def test_answers_keep_the_contract(generator: Generator, question: str) -> None:
    answer = ground(generator.answer(Query.plain(question), PASSAGES), PASSAGES)
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.text)}
    if not answer.found:
        assert answer.citations == [] and answer.lead is None and not markers
        return
    # The markers in the text are exactly the citations' markers, numbered from 1.
    assert markers == {c.marker for c in answer.citations}
    assert sorted(c.marker for c in answer.citations) == list(range(1, len(answer.citations) + 1))
    # Every quote is verbatim in a passage of the source it names.
    for c in answer.citations:
        assert any(c.quote in p.text for p in PASSAGES if p.source_id == c.source_id), c.quote
    # A direct answer, where an answerer gives one, is the text's first line and carries a marker.
    if answer.lead is not None:
        assert answer.text.split("\n")[0] == answer.lead
        assert re.search(r"\[\d+\]", answer.lead)
        assert len(re.sub(r"\[\d+\]", "", answer.lead).split()) <= 30
    assert answer.lead is not None or generator.name != "learned"
