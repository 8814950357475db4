"""The answerer role: one Protocol, the implementations we have, and the grounding check all answers pass."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .embeddings import Embedder
from .errors import ConfigurationError
from .extractive import NOT_FOUND, ExtractiveGenerator
from .models import Answer, Message, Passage
from .settings import Settings
from .text import flatten

GENERATORS = ("extractive",)


class Generator(Protocol):
    """Writes an answer from retrieved passages, citing them."""

    name: str

    def answer(self, question: str, passages: Sequence[Passage], history: Sequence[Message] = ()) -> Answer:
        """An answer whose citations quote the passages."""
        ...


def make_generator(settings: Settings, embedder: Embedder) -> Generator:
    """The answerer named by `settings.generator`."""
    if settings.generator == "extractive":
        return ExtractiveGenerator(embedder, max_sentences=settings.max_sentences, min_score=settings.min_score)
    raise ConfigurationError(
        f"Unknown generator {settings.generator!r}: set ASSISTANT_GENERATOR to one of {', '.join(GENERATORS)}."
    )


def ground(answer: Answer, passages: Sequence[Passage]) -> Answer:
    """Drop every citation whose quote is not verbatim in a retrieved passage of the source it names.

    If nothing cited survives, the answer becomes 'not found': an unsupported claim is never shown.
    """
    if not answer.found:
        return Answer(text=answer.text, citations=[], found=False)
    texts: dict[str, list[str]] = {}
    for p in passages:
        texts.setdefault(p.source_id, []).append(flatten(p.text))
    kept = [c for c in answer.citations if any(flatten(c.quote) in t for t in texts.get(c.source_id, []))]
    if not kept:
        return Answer(text=NOT_FOUND, citations=[], found=False)
    if len(kept) == len(answer.citations):
        return answer
    dropped = {c.marker for c in answer.citations} - {c.marker for c in kept}
    lines = [line for line in answer.text.split("\n") if not any(f"[{m}]" in line for m in dropped)]
    return Answer(text="\n".join(lines) or NOT_FOUND, citations=kept, found=bool(lines))
