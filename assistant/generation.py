"""The answerer role: one Protocol, the implementations we have, and the grounding check all answers pass."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from .conversation import Query
from .embeddings import Embedder
from .errors import ConfigurationError
from .extractive import NOT_FOUND, ExtractiveGenerator
from .models import Answer, Citation, Disagreement, Passage
from .settings import Settings
from .text import flatten

GENERATORS = ("reader", "extractive", "learned", "openai", "local")
OFFLINE_GENERATORS = ("reader", "extractive", "learned")  # the ones that need no model server or model file
_MARKER = re.compile(r"\[(\d+)\]")


class Generator(Protocol):
    """Writes an answer from retrieved passages, citing them."""

    name: str

    def answer(self, query: Query, passages: Sequence[Passage]) -> Answer:
        """An answer to the resolved query whose citations quote the passages."""
        ...


def make_generator(settings: Settings, embedder: Embedder) -> Generator:
    """The answerer named by `settings.generator`."""
    if settings.generator == "reader":
        from .reading import ReaderGenerator

        return ReaderGenerator(max_sentences=settings.max_sentences)
    if settings.generator == "extractive":
        return ExtractiveGenerator(embedder, max_sentences=settings.max_sentences, min_score=settings.min_score)
    if settings.generator == "learned":
        from .learned import LearnedGenerator

        return LearnedGenerator(embedder, max_sentences=settings.max_sentences)
    if settings.generator in ("openai", "local"):
        return _llm_generator(settings, embedder)
    raise ConfigurationError(
        f"Unknown generator {settings.generator!r}: set ASSISTANT_GENERATOR to one of {', '.join(GENERATORS)}."
    )


def _llm_generator(settings: Settings, embedder: Embedder) -> Generator:
    from .features import VectorCache
    from .llm import LlamaCppChat, LLMGenerator, OpenAIChat

    chat: OpenAIChat | LlamaCppChat
    if settings.generator == "openai":
        if not settings.llm_base_url or not settings.llm_model:
            raise ConfigurationError(
                "The openai answerer needs ASSISTANT_LLM_BASE_URL (e.g. http://127.0.0.1:11434/v1 for Ollama) and "
                "ASSISTANT_LLM_MODEL (a model that server has)."
            )
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        chat = OpenAIChat(settings.llm_base_url, settings.llm_model, api_key=key, timeout=settings.llm_timeout,
                          retries=settings.llm_retries, max_tokens=settings.llm_max_tokens)
    else:
        path = settings.llm_model_path
        if path is None or not path.is_file():
            given = f" ({path} is not one)" if path else ""
            raise ConfigurationError(f"The local answerer needs ASSISTANT_LLM_MODEL_PATH set to a .gguf file{given}.")
        chat = LlamaCppChat(path, max_tokens=settings.llm_max_tokens)
    fallback = ExtractiveGenerator(embedder, max_sentences=settings.max_sentences, min_score=settings.min_score)
    return LLMGenerator(chat, VectorCache(embedder), fallback, name=settings.generator)


def ground(answer: Answer, passages: Sequence[Passage]) -> Answer:
    """Drop every citation whose quote is not verbatim in a retrieved passage of the source it names.

    Its markers leave the text; a line left citing nothing leaves too. If nothing cited survives, the answer
    becomes 'not found': an unsupported claim is never shown, and a refusal never carries citations (only the
    closest passages, `nearest`, held to the same test).
    """
    texts: dict[str, list[str]] = {}
    for p in passages:
        texts.setdefault(p.source_id, []).append(flatten(p.text))
    if not answer.found:
        nearest = [c for c in answer.nearest if _verbatim(c, texts)]
        return Answer(text=answer.text, citations=[], found=False, dropped=answer.dropped, notes=answer.notes,
                      nearest=nearest)
    kept = [c for c in answer.citations if _verbatim(c, texts)]
    if len(kept) == len(answer.citations):
        return answer
    dropped = {c.marker for c in answer.citations} - {c.marker for c in kept}
    lines: list[str] = []
    lead = None
    for i, line in enumerate(answer.text.split("\n")):
        cleaned = _MARKER.sub(lambda m: "" if int(m.group(1)) in dropped else m.group(), line).rstrip()
        if _MARKER.search(cleaned):
            lines.append(cleaned)
            if i == 0 and answer.lead is not None:  # the lead is the first line, by Answer's contract
                lead = cleaned
    cited = {int(m) for line in lines for m in _MARKER.findall(line)}
    kept = [c for c in kept if c.marker in cited]
    if not kept:
        return Answer(text=NOT_FOUND, citations=[], found=False, dropped=answer.dropped)
    return Answer(text="\n".join(lines), citations=kept, found=True, lead=lead,
                  disagreements=_still_disputed(answer.disagreements, cited), dropped=answer.dropped,
                  notes=answer.notes)


def _verbatim(citation: Citation, texts: dict[str, list[str]]) -> bool:
    """The quote is word for word in a retrieved passage of the source it names."""
    quote = flatten(citation.quote)
    return bool(quote) and any(quote in t for t in texts.get(citation.source_id, []))


def _still_disputed(disagreements: list[Disagreement], cited: set[int]) -> list[Disagreement]:
    """The disagreements whose sides still have citations, with only those citations; one side left is none."""
    out = []
    for d in disagreements:
        positions = [p.model_copy(update={"markers": [m for m in p.markers if m in cited]}) for p in d.positions]
        positions = [p for p in positions if p.markers]
        if len(positions) >= 2:
            out.append(d.model_copy(update={"positions": positions}))
    return out
