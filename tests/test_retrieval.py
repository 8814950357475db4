"""Fusion and follow-up handling, with hand-built retrievers and the fake embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.models import Passage
from assistant.retrieval import LEXICAL_DIR, HybridRetriever
from assistant.store import ChromaStore


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


def _reopened(data: Path, corpus: Path) -> Assistant:
    from assistant import Settings

    from .fakes import FakeEmbedder

    return Assistant(Settings(corpus_dir=corpus, data_dir=data), embedder=FakeEmbedder())


def test_a_later_start_loads_the_saved_passages_and_bm25_instead_of_reading_chroma(
    fake_assistant: Assistant, tmp_path: Path, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_assistant.index()
    first = [p.chunk_id for p in fake_assistant.retriever().retrievers[1].retrieve("Khatibzadeh drone", 10)]
    assert first
    later = _reopened(tmp_path / "data", corpus_dir)
    monkeypatch.setattr(ChromaStore, "chunks", lambda *_: pytest.fail("read every passage from Chroma again"))
    assert [p.chunk_id for p in later.retriever().retrievers[1].retrieve("Khatibzadeh drone", 10)] == first
    assert later.ask("Who did Iran blame?").found


def test_the_saved_bm25_follows_the_index_and_a_damaged_copy_is_rebuilt(
    fake_assistant: Assistant, tmp_path: Path, corpus_dir: Path
) -> None:
    fake_assistant.index()
    fake_assistant.retriever()
    saved = tmp_path / "data" / LEXICAL_DIR
    (before,) = list(saved.iterdir())
    path = corpus_dir / "002_5b7b7d05eade649a.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nA zebracorn was seen near the Green Zone.\n", "utf-8")
    fake_assistant.index()
    assert fake_assistant.retrieve("zebracorn")[0].source_id == "002_5b7b7d05eade649a"
    (after,) = list(saved.iterdir())  # the copy for the old index state is gone
    assert after.name != before.name
    (after / "chunks.json").write_text("{not json", encoding="utf-8")
    assert _reopened(tmp_path / "data", corpus_dir).retrieve("zebracorn")[0].source_id == "002_5b7b7d05eade649a"
