"""The public contract: validation errors a user can act on, and the shape of answers."""

from __future__ import annotations

from pathlib import Path

import pytest

import assistant as pkg
from assistant import (
    Answer,
    Assistant,
    AssistantError,
    Citation,
    ConfigurationError,
    InvalidQuestionError,
    Settings,
)

from .fakes import FakeEmbedder, FakeGenerator


def test_errors_are_exported_and_share_a_base() -> None:
    assert issubclass(pkg.CorpusError, AssistantError) and issubclass(InvalidQuestionError, AssistantError)
    assert callable(pkg.ask) and {"Answer", "Citation", "Settings", "Assistant"} <= set(pkg.__all__)


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question(fake_assistant: Assistant, question: str) -> None:
    with pytest.raises(InvalidQuestionError, match="The question is empty: type a question"):
        fake_assistant.ask(question)


def test_too_long_question(fake_assistant: Assistant) -> None:
    with pytest.raises(InvalidQuestionError, match="2,001 characters long; the limit is 2,000. Shorten it."):
        fake_assistant.ask("x" * 2001)


def test_bad_history(fake_assistant: Assistant) -> None:
    with pytest.raises(InvalidQuestionError, match="history must be a list of"):
        fake_assistant.ask("Who did Iran blame?", [{"role": "robot", "content": "hi"}])


def test_ask_passes_history_and_passages_to_the_generator(fake_assistant: Assistant) -> None:
    gen = FakeGenerator()
    fake_assistant.generator = gen
    quote = "Iran condemned the attack and has denied any role in it."
    gen.enqueue(Answer(text="Press TV: " + quote + " [1]",
                       citations=[Citation(marker=1, source_id="002_5b7b7d05eade649a", title="t", quote=quote)]))
    history = [{"role": "user", "content": "What did Iran say about the attack?"},
               {"role": "assistant", "content": "It condemned it."}]
    answer = fake_assistant.ask("Did it deny a role?", history)
    question, passages, turns = gen.calls[0]
    assert question == "Did it deny a role?" and [t.role for t in turns] == ["user", "assistant"]
    assert len(passages) == fake_assistant.settings.top_k
    assert answer.found and answer.citations[0].quote == quote  # verbatim, so grounding kept it


def test_answer_json_has_the_contract_fields() -> None:
    answer = Answer(text="t [1]", citations=[Citation(marker=1, source_id="s", title="T", quote="q")])
    data = answer.model_dump()
    assert set(data) == {"text", "citations", "found"}
    assert set(data["citations"][0]) == {"marker", "source_id", "title", "outlet", "quote"}


def test_unknown_generator_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Unknown generator 'gpt-9': set ASSISTANT_GENERATOR to one of"):
        Assistant(Settings(data_dir=tmp_path, generator="gpt-9"), embedder=FakeEmbedder())
