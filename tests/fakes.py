"""Hand-written fakes: an embedder that still ranks, and a generator that records what it was sent."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator, Sequence

from assistant.conversation import Query
from assistant.models import Answer, Passage
from assistant.reader import Calibration, Span

_WORD = re.compile(r"[a-z0-9]+")


class FakeEmbedder:
    """Hashed bag of words: texts sharing words are close, so retrieval order is meaningful and testable."""

    name = "fake-bow"

    def __init__(self, dim: int = 512, fail_after: int | None = None) -> None:
        self.dim = dim
        self.calls: list[list[str]] = []
        self.fail_after = fail_after  # raise on the n-th embed call, to simulate an interrupted build

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in _WORD.findall(text.lower()):
            h = int(hashlib.md5(word.encode()).hexdigest(), 16)
            vec[h % self.dim] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise KeyboardInterrupt("simulated interruption")
        self.calls.append(list(texts))
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class FakeGenerator:
    """Returns queued answers and records every call."""

    name = "fake"

    def __init__(self) -> None:
        self.queue: list[Answer] = []
        self.calls: list[tuple[Query, list[Passage]]] = []

    def enqueue(self, *answers: Answer) -> None:
        self.queue.extend(answers)

    def answer(self, query: Query, passages: Sequence[Passage]) -> Answer:
        self.calls.append((query, list(passages)))
        return self.queue.pop(0)


class FakeChat:
    """A chat model that streams a scripted reply word by word and records the messages it was sent."""

    name = "fake-chat"

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.sent: list[list[dict[str, str]]] = []

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        self.sent.append(messages)
        for i, word in enumerate(self.reply.split(" ")):
            yield word if i == 0 else " " + word


class FakeReader:
    """Finds the given phrases in the passages, each with the margin it was given."""

    def __init__(self, phrases: dict[str, float], calibration: Calibration | None = None) -> None:
        self.phrases = phrases
        self._calibration = calibration or Calibration(threshold=0.6, near=0.3)
        self.calls: list[tuple[str, list[str]]] = []

    @property
    def calibration(self) -> Calibration:
        return self._calibration

    def read(self, question: str, passages: Sequence[str]) -> list[Span]:
        self.calls.append((question, list(passages)))
        spans = []
        for i, text in enumerate(passages):
            for phrase, margin in self.phrases.items():
                at = text.find(phrase)
                if at >= 0:
                    spans.append(Span(i, at, at + len(phrase), phrase, margin))
        return spans
