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


@pytest.mark.parametrize(("question", "said"), [(None, r"No question was given \(None\)"),
                                              (3, "must be text, not int"), (["Who?"], "must be text, not list"),
                                              ({"q": "Who?"}, "must be text, not dict")])
def test_a_question_that_is_not_text_says_what_it_was(fake_assistant: Assistant, question: object, said: str) -> None:
    with pytest.raises(InvalidQuestionError, match=said):
        fake_assistant.ask(question)  # type: ignore[arg-type]


def test_markers_pasted_with_a_question_are_not_part_of_it(fake_assistant: Assistant) -> None:
    assert fake_assistant.resolve("Who did Iran blame? [1] [2]").text == "Who did Iran blame?"
    with pytest.raises(InvalidQuestionError, match="The question is empty"):
        fake_assistant.ask("[1] [2]")


def test_a_question_is_read_with_the_articles_typography(fake_assistant: Assistant) -> None:
    # typed on a phone: curly apostrophes and quotes, a no-break space; the articles were cleaned to straight ones
    typed = "Who did CENTCOM\u2019s commander call \u201cresponsible\u201d?\u00a0"
    assert fake_assistant.resolve(typed).text == "Who did CENTCOM's commander call \"responsible\"?"


def test_an_oversized_history_is_refused_with_what_to_do(fake_assistant: Assistant) -> None:
    history = [{"role": "user", "content": "Who did Iran blame?"}, {"role": "assistant", "content": "x" * 200_000}]
    with pytest.raises(InvalidQuestionError, match=r"history is 200,019 characters; the limit is 100,000\. Start"):
        fake_assistant.ask("What is his name?", history)


def test_too_long_question(fake_assistant: Assistant) -> None:
    with pytest.raises(InvalidQuestionError, match="2,001 characters long; the limit is 2,000. Shorten it."):
        fake_assistant.ask("x" * 2001)


def test_bad_history(fake_assistant: Assistant) -> None:
    with pytest.raises(InvalidQuestionError, match="history must be a list of"):
        fake_assistant.ask("Who did Iran blame?", [{"role": "robot", "content": "hi"}])


def test_ask_resolves_the_followup_once_and_passes_it_with_the_passages(fake_assistant: Assistant) -> None:
    gen = FakeGenerator()
    fake_assistant.generator = gen
    quote = "Iran condemned the attack and has denied any role in it."
    gen.enqueue(Answer(text="Press TV: " + quote + " [1]",
                       citations=[Citation(marker=1, source_id="002_5b7b7d05eade649a", title="t", quote=quote)]))
    history = [{"role": "user", "content": "What did Iran say about the attack?"},
               {"role": "assistant", "content": "It condemned it."}]
    answer = fake_assistant.ask("Did it deny a role?", history)
    query, passages = gen.calls[0]
    # "it" has no referent in the question: the previous question travels with it, resolved once upstream.
    assert query.followup and query.asked == "Did it deny a role?"
    assert query.text == "What did Iran say about the attack? Did it deny a role?" and query.form == query.asked
    assert len(passages) == fake_assistant.settings.top_k
    assert answer.found and answer.citations[0].quote == quote  # verbatim, so grounding kept it


def test_answer_json_has_the_contract_fields() -> None:
    answer = Answer(text="t [1]", citations=[Citation(marker=1, source_id="s", title="T", quote="q")])
    data = answer.model_dump()
    assert set(data) == {"text", "citations", "found", "lead", "disagreements", "silent", "dropped", "notes",
                         "nearest"}
    assert set(data["citations"][0]) == {"marker", "source_id", "title", "outlet", "quote", "speaker"}


def test_unknown_generator_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Unknown generator 'gpt-9': set ASSISTANT_GENERATOR to one of"):
        Assistant(Settings(data_dir=tmp_path, generator="gpt-9"), embedder=FakeEmbedder())
