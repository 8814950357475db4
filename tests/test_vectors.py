"""Sentence vectors stored at index time: answering embeds only the question, and answers do not change."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, Settings
from assistant.embeddings import MiniLMEmbedder
from assistant.evaluation.gold import load_gold
from assistant.indexing import IndexState
from assistant.vectors import SENTENCE_DIR, SentenceVectors, passage_texts

from .conftest import SEED_CORPUS
from .fakes import FakeEmbedder

QUESTIONS = ["Who did Iran blame?", "Was al-Kadhimi hurt?", "How many drones were used?",
             "What did Biden say about the attack?", "Did the sources disagree on who was behind it?"]


def _passage_texts_asked(bot: Assistant, embedder: FakeEmbedder, question: str) -> set[str]:
    """The texts of the question's passages that the model was asked to embed while answering it."""
    embedder.calls.clear()
    bot.ask(question)
    asked = {t for call in embedder.calls for t in call}
    return asked & {t for p in bot.retrieve(question) for t in passage_texts(p.text)}


def test_answering_embeds_none_of_the_passages_sentences(fake_assistant: Assistant) -> None:
    fake_assistant.index()
    embedder = fake_assistant.embedder.base  # type: ignore[attr-defined]
    for question in QUESTIONS:
        assert _passage_texts_asked(fake_assistant, embedder, question) == set(), question


def test_without_stored_vectors_the_sentences_are_embedded_when_asked(tmp_path: Path, corpus_dir: Path) -> None:
    # The same check fails when nothing is stored: it measures what it claims to.
    embedder = FakeEmbedder()
    bot = Assistant(Settings(corpus_dir=corpus_dir, data_dir=tmp_path / "data"), embedder=embedder)
    bot.index()
    shutil.rmtree(tmp_path / "data" / SENTENCE_DIR)
    again = Assistant(Settings(corpus_dir=corpus_dir, data_dir=tmp_path / "data"), embedder=embedder)
    assert _passage_texts_asked(again, embedder, QUESTIONS[0])


def test_removed_sentence_files_are_embedded_again_by_the_next_build(tmp_path: Path, corpus_dir: Path) -> None:
    bot = Assistant(Settings(corpus_dir=corpus_dir, data_dir=tmp_path / "data"), embedder=FakeEmbedder())
    bot.index()
    state = IndexState.load(tmp_path / "data")
    assert state is not None
    victim = next(iter(state.docs.values())).content_hash
    (tmp_path / "data" / SENTENCE_DIR / f"{victim}.npz").unlink()
    report = bot.index()
    assert len(report.updated) == 1 and any("sentence vectors" in line for line in report.repaired)
    assert bot.vectors.has(victim)
    assert sorted(p.name for p in (tmp_path / "data" / SENTENCE_DIR).iterdir()) == sorted(
        f"{d.content_hash}.npz" for d in state.docs.values())


def test_a_damaged_sentence_file_falls_back_to_embedding(tmp_path: Path) -> None:
    store = SentenceVectors(tmp_path)
    store.write("abc", ["one sentence here.", "another one."], np.eye(2, 4, dtype=np.float32))
    (tmp_path / "abc.npz").write_bytes(b"not a zip file")
    store.load(["abc", "missing"])
    assert store.find(["one sentence here."]) == {}


def test_loaded_articles_are_bounded(tmp_path: Path) -> None:
    store = SentenceVectors(tmp_path, capacity=2)
    for i in range(3):
        store.write(f"h{i}", [f"text {i}"], np.ones((1, 4), dtype=np.float32))
    store.load(["h0", "h1", "h2"])
    assert set(store.find(["text 0", "text 1", "text 2"])) == {"text 1", "text 2"}


@pytest.mark.integration
def test_stored_vectors_give_the_same_answers(tmp_path: Path, minilm: MiniLMEmbedder) -> None:
    data = tmp_path / "data"
    stored = Assistant(Settings(corpus_dir=SEED_CORPUS, data_dir=data), embedder=minilm)
    stored.index()
    texts = list(dict.fromkeys(t for c in stored.store.chunks(IndexState.load(data).collection)  # type: ignore[union-attr]
                               for t in passage_texts(c.text)))
    stored.vectors.load(d.content_hash for d in IndexState.load(data).docs.values())  # type: ignore[union-attr]
    kept = stored.vectors.find(texts)
    assert len(kept) == len(texts)
    computed = np.asarray(minilm.embed(texts), dtype=np.float32)
    worst = max(abs(float(kept[t] @ v) - 1.0) for t, v in zip(texts, computed, strict=True))
    assert worst < 1e-3  # float16 storage moves a cosine by less than this
    shutil.rmtree(data / SENTENCE_DIR)
    computing = Assistant(Settings(corpus_dir=SEED_CORPUS, data_dir=data), embedder=minilm)
    for q in load_gold().questions[:20]:
        assert stored.ask(q.question, q.history).text == computing.ask(q.question, q.history).text, q.question
