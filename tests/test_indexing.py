"""Incremental builds re-embed only what changed; an interrupted build leaves the old index usable."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, Settings, indexing
from assistant.indexing import IndexState

from .fakes import FakeEmbedder


@pytest.fixture(autouse=True)
def one_document_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five articles fit one batch; one per batch makes an interruption fall between documents, as it does
    between batches on a large corpus."""
    monkeypatch.setattr(indexing, "BATCH_CHUNKS", 1)


def _assistant(tmp_path: Path, corpus_dir: Path, embedder: FakeEmbedder) -> Assistant:
    return Assistant(Settings(corpus_dir=corpus_dir, data_dir=tmp_path / "data"), embedder=embedder)


def test_second_build_embeds_nothing(tmp_path: Path, corpus_dir: Path) -> None:
    embedder = FakeEmbedder()
    assistant = _assistant(tmp_path, corpus_dir, embedder)
    assistant.index()
    calls = len(embedder.calls)
    report = assistant.index()
    assert len(embedder.calls) == calls
    assert not report.changed and len(report.unchanged) == 5


def test_changed_file_is_the_only_one_reembedded(tmp_path: Path, corpus_dir: Path) -> None:
    embedder = FakeEmbedder()
    assistant = _assistant(tmp_path, corpus_dir, embedder)
    assistant.index()
    path = corpus_dir / "002_5b7b7d05eade649a.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nA zebracorn was seen near the Green Zone.\n", "utf-8")
    embedder.calls.clear()
    report = assistant.index()
    assert report.updated == ["002_5b7b7d05eade649a"]
    assert len(embedder.calls) == 1 and any("zebracorn" in t for t in embedder.calls[0])
    assert assistant.retrieve("zebracorn")[0].source_id == "002_5b7b7d05eade649a"
    # The old chunks are gone: every stored chunk belongs to the state.
    state = IndexState.load(tmp_path / "data")
    assert state is not None and set(assistant.store.ids(state.collection)) == state.chunk_ids


def test_deleted_file_leaves_the_index(tmp_path: Path, corpus_dir: Path) -> None:
    assistant = _assistant(tmp_path, corpus_dir, FakeEmbedder())
    assistant.index()
    (corpus_dir / "003_18e1d0701c846336.txt").unlink()
    report = assistant.index()
    assert report.removed == ["003_18e1d0701c846336"]
    assert all(p.source_id != "003_18e1d0701c846336" for p in assistant.retrieve("Kataib Hezbollah drone"))


def test_interrupted_build_keeps_previous_index(tmp_path: Path, corpus_dir: Path) -> None:
    assistant = _assistant(tmp_path, corpus_dir, FakeEmbedder())
    assistant.index()
    before = IndexState.load(tmp_path / "data")
    for name in ("000_e51b5d969b07c07d.txt", "001_b9b850b8616dede0.txt"):
        path = corpus_dir / name
        path.write_text(path.read_text(encoding="utf-8") + "\nQuokkas were reported.\n", "utf-8")
    broken = _assistant(tmp_path, corpus_dir, FakeEmbedder(fail_after=1))  # dies on the second document
    with pytest.raises(KeyboardInterrupt):
        broken.index()
    after = IndexState.load(tmp_path / "data")
    assert before is not None and after is not None
    assert after.docs["001_b9b850b8616dede0"] == before.docs["001_b9b850b8616dede0"]
    fresh = _assistant(tmp_path, corpus_dir, FakeEmbedder())
    assert fresh.retrieve("Khatibzadeh spokesman")  # still answers from what was indexed
    report = fresh.index()  # and the next build finishes the job
    assert report.updated == ["001_b9b850b8616dede0"]


def test_interrupted_rebuild_keeps_previous_collection(tmp_path: Path, corpus_dir: Path) -> None:
    assistant = _assistant(tmp_path, corpus_dir, FakeEmbedder())
    assistant.index()
    before = IndexState.load(tmp_path / "data")
    broken = _assistant(tmp_path, corpus_dir, FakeEmbedder(fail_after=2))
    with pytest.raises(KeyboardInterrupt):
        broken.index(rebuild=True)
    assert IndexState.load(tmp_path / "data") == before
    embedder = FakeEmbedder()
    report = _assistant(tmp_path, corpus_dir, embedder).index(rebuild=True)  # carries on where it stopped
    assert len(report.updated) == 3 and len(report.unchanged) == 2 and len(embedder.calls) == 3
    after = IndexState.load(tmp_path / "data")
    assert after is not None and before is not None and after.collection != before.collection


def test_progress_is_reported_when_a_batch_starts_and_per_document(tmp_path: Path, corpus_dir: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    embedder = FakeEmbedder()
    embedded_at: list[int] = []
    base_embed = embedder.embed
    embedder.embed = lambda texts: (embedded_at.append(len(seen)), base_embed(texts))[1]  # type: ignore[method-assign]
    _assistant(tmp_path, corpus_dir, embedder).index(progress=lambda s, d, t: seen.append((s, d, t)))
    # "0 of 5" before anything is embedded (a first build's long wait shows as indexing), then the count as each
    # document is stored, reported again when the next batch starts
    done = [d for _, d, _ in seen]
    assert done[0] == 0 and embedded_at[0] >= 1 and {t for _, _, t in seen} == {5}
    assert done == sorted(done) and set(done) == {0, 1, 2, 3, 4, 5}


def test_an_interrupted_first_build_is_resumed_not_restarted(tmp_path: Path, corpus_dir: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        _assistant(tmp_path, corpus_dir, FakeEmbedder(fail_after=2)).index()  # two of five documents done
    assert IndexState.load(tmp_path / "data") is None  # nothing is live until the build completes
    embedder = FakeEmbedder()
    report = _assistant(tmp_path, corpus_dir, embedder).index()
    assert len(embedder.calls) == 3 and len(report.added) == 3 and len(report.unchanged) == 2
    state = IndexState.load(tmp_path / "data")
    assert state is not None and len(state.docs) == 5
    assert not (tmp_path / "data" / indexing.NEXT_FILE).exists()
    assert _assistant(tmp_path, corpus_dir, FakeEmbedder()).store.collections("newsdesk-") == [state.collection]


def test_unfinished_rebuild_collections_are_swept(tmp_path: Path, corpus_dir: Path) -> None:
    _assistant(tmp_path, corpus_dir, FakeEmbedder()).index()
    with pytest.raises(KeyboardInterrupt):
        _assistant(tmp_path, corpus_dir, FakeEmbedder(fail_after=1)).index(rebuild=True)
    assistant = _assistant(tmp_path, corpus_dir, FakeEmbedder())
    assert len(assistant.store.collections("newsdesk-")) == 2
    assistant.index()
    state = IndexState.load(tmp_path / "data")
    assert state is not None and assistant.store.collections("newsdesk-") == [state.collection]


# ---- a damaged data dir repairs itself ----


def _restart() -> None:
    """What a new process sees: chromadb keeps one client per path inside a process."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


QUESTION = "How many drones were launched at the residence?"


def test_a_deleted_vector_database_is_refilled_before_any_answer(tmp_path: Path, corpus_dir: Path) -> None:
    chunks = _assistant(tmp_path, corpus_dir, FakeEmbedder()).index().chunks
    (tmp_path / "data" / "chroma" / "chroma.sqlite3").unlink()
    _restart()
    bot = _assistant(tmp_path, corpus_dir, FakeEmbedder())
    assert bot.ask(QUESTION).found  # never "The articles don't say." from an empty index
    assert bot.status().chunks == chunks and len(bot.store.ids(IndexState.load(tmp_path / "data").collection)) == chunks
    _restart()
    report = _assistant(tmp_path, corpus_dir, FakeEmbedder()).index()
    assert not report.changed and report.repaired == []  # repaired once, then it is a healthy index


def test_lost_passages_are_reported_by_the_next_build(tmp_path: Path, corpus_dir: Path) -> None:
    chunks = _assistant(tmp_path, corpus_dir, FakeEmbedder()).index().chunks
    (tmp_path / "data" / "chroma" / "chroma.sqlite3").unlink()
    _restart()
    report = _assistant(tmp_path, corpus_dir, FakeEmbedder()).index()
    assert report.repaired == ["5 article(s) had lost their passages from the vector store; they were embedded again."]
    assert sorted(report.updated) == sorted(p.stem for p in corpus_dir.glob("*.txt")) and report.chunks == chunks


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_a_damaged_state_file_is_rebuilt_with_one_line_saying_so(tmp_path: Path, corpus_dir: Path,
                                                                 damage: str) -> None:
    chunks = _assistant(tmp_path, corpus_dir, FakeEmbedder()).index().chunks
    state = tmp_path / "data" / "index.json"
    if damage == "truncate":
        state.write_bytes(state.read_bytes()[:1000])
    else:
        state.write_bytes(b"\x00\xff not json")
    _restart()
    bot = _assistant(tmp_path, corpus_dir, FakeEmbedder())
    report = bot.index(rebuild=True)
    assert len(report.repaired) == 1 and report.repaired[0].startswith("The index state file index.json was damaged")
    assert report.chunks == chunks and bot.ask(QUESTION).found


@pytest.mark.parametrize("damage", ["garbage", "truncate"])
def test_a_damaged_vector_database_is_set_aside_and_rebuilt(tmp_path: Path, corpus_dir: Path, damage: str) -> None:
    chunks = _assistant(tmp_path, corpus_dir, FakeEmbedder()).index().chunks
    db = tmp_path / "data" / "chroma" / "chroma.sqlite3"
    if damage == "garbage":
        db.write_bytes(b"garbage" * 1000)
    else:
        with db.open("r+b") as f:
            f.truncate(1000)
    _restart()
    bot = _assistant(tmp_path, corpus_dir, FakeEmbedder())
    report = bot.index()
    assert report.repaired[0].startswith("The vector store was damaged (")
    assert "moved aside to chroma.damaged-" in report.repaired[0]
    assert list((tmp_path / "data").glob("chroma.damaged-*"))  # kept for a look, never deleted
    assert report.chunks == chunks and bot.ask(QUESTION).found


def test_questions_are_answered_while_a_rebuild_runs(tmp_path: Path, corpus_dir: Path) -> None:
    import threading

    class Gated(FakeEmbedder):
        """Embeds documents only when let through: the build waits mid-way while questions are asked."""

        def __init__(self) -> None:
            super().__init__()
            self.building = threading.Event()
            self.go = threading.Event()

        def embed(self, texts: list[str]) -> list[list[float]]:  # type: ignore[override]
            if self.gate:
                self.building.set()
                assert self.go.wait(timeout=60)
            return super().embed(texts)

    embedder = Gated()
    embedder.gate = False
    bot = _assistant(tmp_path, corpus_dir, embedder)
    chunks = bot.index().chunks
    before = bot.ask(QUESTION)
    embedder.gate = True
    build = threading.Thread(target=lambda: bot.index(rebuild=True))
    build.start()
    try:
        assert embedder.building.wait(timeout=60)
        during = bot.ask(QUESTION)  # answered from the previous index while the build waits
        assert build.is_alive() and during.text == before.text
    finally:
        embedder.go.set()
        build.join(timeout=60)
    assert bot.ask(QUESTION).found and bot.status().chunks == chunks


def test_an_index_from_another_version_is_rebuilt_with_one_line_saying_so(tmp_path: Path, corpus_dir: Path) -> None:
    chunks = _assistant(tmp_path, corpus_dir, FakeEmbedder()).index().chunks
    state = IndexState.load(tmp_path / "data")
    assert state is not None
    state.model_copy(update={"signature": '{"format": 0}'}).save(tmp_path / "data")
    report = _assistant(tmp_path, corpus_dir, FakeEmbedder()).index()
    assert report.repaired == ["The index was built by another version or with other settings (embedding model, "
                               "passage size); it was rebuilt from the corpus."]
    assert report.chunks == chunks and len(report.updated) == 5


def test_a_reindex_cleans_only_the_files_that_changed(
    tmp_path: Path, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant import corpus

    assistant = _assistant(tmp_path, corpus_dir, FakeEmbedder())
    assistant.index()
    cleaned: list[str] = []
    parse = corpus.parse_article
    monkeypatch.setattr(corpus, "parse_article",
                        lambda raw, sid, meta=None: cleaned.append(sid) or parse(raw, sid, meta))
    path = corpus_dir / "002_5b7b7d05eade649a.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nA zebracorn was seen near the Green Zone.\n", "utf-8")
    (corpus_dir / "copy.txt").write_text((corpus_dir / "003_18e1d0701c846336.txt").read_text(encoding="utf-8"))
    report = assistant.index()
    assert sorted(cleaned) == ["002_5b7b7d05eade649a", "copy"]
    assert report.updated == ["002_5b7b7d05eade649a"] and len(report.unchanged) == 4
    # A copy of an unchanged article is still recognised, from the hashes kept in the index state.
    assert [s.reason for s in report.skipped] == ["duplicate of 003_18e1d0701c846336.txt"]
