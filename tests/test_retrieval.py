"""Fusion and follow-up handling, with hand-built retrievers and the fake embedder."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.models import Passage
from assistant.retrieval import HybridRetriever


class ListRetriever:
    def __init__(self, ids: list[str]) -> None:
        self.ids = ids

    def retrieve(self, query: str, k: int) -> list[Passage]:
        return [Passage(chunk_id=i, source_id=i.split(":")[0], title="t", text=i) for i in self.ids[:k]]


def test_rrf_rewards_agreement() -> None:
    fused = HybridRetriever([ListRetriever(["a:1", "b:1", "c:1"]), ListRetriever(["b:1", "d:1", "e:1"])], rrf_k=60)
    passages = fused.retrieve("q", 4)
    assert [p.chunk_id for p in passages] == ["b:1", "a:1", "d:1", "c:1"]
    assert passages[0].score == pytest.approx(1 / 62 + 1 / 61)


def test_per_source_cap_makes_room_for_other_articles() -> None:
    fused = HybridRetriever([ListRetriever(["a:1", "a:2", "a:3", "b:1"])], per_source=2)
    assert [p.chunk_id for p in fused.retrieve("q", 3)] == ["a:1", "a:2", "b:1"]


def test_hybrid_finds_rare_names(fake_assistant: Assistant) -> None:
    top = fake_assistant.retrieve("Silliman ambassador")[0]
    assert top.source_id == "002_5b7b7d05eade649a" and "Silliman" in top.text
