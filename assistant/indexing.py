"""Incremental index builds: documents keyed by content hash, with a state file as the source of truth.

The state file (`index.json`) is replaced atomically after each document, so whatever happens mid-build, the
state names only chunks that are fully stored. Chunks the state does not name are ignored by readers and
swept by the next build. `rebuild` writes a fresh collection and switches to it only when it is complete.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from .chunking import chunk_document
from .corpus import read_corpus
from .embeddings import Embedder
from .models import Document, IndexReport, Skipped
from .store import ChromaStore

STATE_FILE = "index.json"


class ChunkingError(ValueError):
    """A document that cannot be split into passages (raised before anything of it is stored)."""

Progress = Callable[[str, int, int], None]  # (source id, done, total)


class DocEntry(BaseModel):
    """What the index holds for one document."""

    content_hash: str
    title: str
    outlet: str | None = None
    date: str | None = None
    url: str | None = None
    chunk_ids: list[str]


class IndexState(BaseModel):
    """The index's own record of what it contains and how it was built."""

    signature: str
    collection: str
    docs: dict[str, DocEntry] = Field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path) -> IndexState | None:
        """The saved state, or None when no index was built yet or its file is damaged."""
        return cls.read(data_dir)[0]

    @classmethod
    def read(cls, data_dir: Path) -> tuple[IndexState | None, str | None]:
        """The saved state (None if there is none) and, when its file is damaged, what is wrong with it."""
        path = data_dir / STATE_FILE
        if not path.exists():
            return None, None
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8")), None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            kind = type(exc).__name__
            return None, (f"The index state file {STATE_FILE} was damaged ({kind}); the index was rebuilt from the "
                          "corpus.")

    def save(self, data_dir: Path) -> None:
        """Write atomically: a crash leaves either the old or the new state, never half of one."""
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / f".{STATE_FILE}.tmp"
        tmp.write_text(self.model_dump_json(indent=1), encoding="utf-8")
        os.replace(tmp, data_dir / STATE_FILE)

    @property
    def chunk_ids(self) -> set[str]:
        """Ids of every chunk that belongs to the index."""
        return {cid for entry in self.docs.values() for cid in entry.chunk_ids}


def signature(embedder: Embedder, chunk_tokens: int) -> str:
    """What must match for stored vectors to be reusable."""
    return json.dumps({"embedder": embedder.name, "chunk_tokens": chunk_tokens, "format": 1})


def build_index(
    corpus_dir: Path,
    data_dir: Path,
    store: ChromaStore,
    embedder: Embedder,
    *,
    collection: str,
    chunk_tokens: int,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> IndexReport:
    """Bring the index in line with the corpus folder, embedding only new or changed documents."""
    started = time.perf_counter()
    docs, skipped = read_corpus(corpus_dir)
    sig = signature(embedder, chunk_tokens)
    old, damage = IndexState.read(data_dir)
    report = IndexReport(skipped=skipped, repaired=[damage] if damage else [])
    fresh = rebuild or old is None or old.signature != sig
    if old is not None and old.signature != sig:
        report.repaired.append("The index was built by another version or with other settings (embedding model, "
                               "passage size); it was rebuilt from the corpus.")
    # Collections of builds that never finished are not the live one: sweep them.
    for name in store.collections(prefix=f"{collection}-"):
        if old is None or name != old.collection:
            store.drop(name)
    if fresh:
        name = f"{collection}-{uuid.uuid4().hex[:12]}"
        state = IndexState(signature=sig, collection=name)
    else:
        assert old is not None
        state = old.model_copy(deep=True)
        stored = set(store.ids(state.collection))
        # Sweep chunks a previous interrupted build left behind.
        store.delete(state.collection, sorted(stored - state.chunk_ids))
        # Documents whose passages are gone from the vector store (a deleted or replaced database) are re-embedded.
        lost = {sid for sid, entry in state.docs.items() if not set(entry.chunk_ids) <= stored}
        if lost:
            for sid in lost:
                entry = state.docs[sid]
                state.docs[sid] = entry.model_copy(update={"content_hash": "", "chunk_ids": []})
            report.repaired.append(f"{len(lost)} article(s) had lost their passages from the vector store; they were "
                                   "embedded again.")
    todo = [d for d in docs if fresh or d.source_id not in state.docs
            or state.docs[d.source_id].content_hash != d.content_hash]
    changed = {d.source_id for d in todo}
    report.unchanged = sorted(d.source_id for d in docs if d.source_id not in changed)
    for done, doc in enumerate(todo, start=1):
        try:
            _index_document(doc, state, store, embedder, chunk_tokens, data_dir, incremental=not fresh)
        except ChunkingError as exc:  # one article that cannot be chunked never stops the build
            report.skipped.append(Skipped(path=doc.source_id, reason=f"cannot be split into passages: {exc}"))
            continue
        (report.updated if old and doc.source_id in old.docs else report.added).append(doc.source_id)
        if progress:
            progress(doc.source_id, done, len(todo))
    if fresh:
        state.save(data_dir)  # the switch to the new collection
        if old is not None:
            report.removed = sorted(set(old.docs) - set(state.docs))
            if old.collection != state.collection:
                store.drop(old.collection)
    else:
        # A file that is gone leaves the index; one that is merely unreadable now keeps what was indexed.
        present = {d.source_id for d in docs} | {Path(s.path).stem for s in skipped}
        for source_id in sorted(set(state.docs) - present):
            entry = state.docs.pop(source_id)
            state.save(data_dir)
            store.delete(state.collection, entry.chunk_ids)
            report.removed.append(source_id)
    report.chunks = len(state.chunk_ids)
    report.seconds = time.perf_counter() - started
    return report


def _index_document(
    doc: Document,
    state: IndexState,
    store: ChromaStore,
    embedder: Embedder,
    chunk_tokens: int,
    data_dir: Path,
    *,
    incremental: bool,
) -> None:
    """Embed and store one document, then record it; its old chunks go only after the record is saved."""
    try:
        chunks = chunk_document(doc, embedder.count_tokens, chunk_tokens)
    except ValueError as exc:
        raise ChunkingError(str(exc)) from exc
    vectors = embedder.embed([c.embed_text for c in chunks])
    previous = state.docs.get(doc.source_id)
    stale = [cid for cid in (previous.chunk_ids if previous else []) if cid not in {c.chunk_id for c in chunks}]
    store.add(state.collection, doc, chunks, vectors)
    state.docs[doc.source_id] = DocEntry(
        content_hash=doc.content_hash,
        title=doc.title,
        outlet=doc.outlet,
        date=doc.date,
        url=doc.url,
        chunk_ids=[c.chunk_id for c in chunks],
    )
    if incremental:  # the live state changes doc by doc; a fresh build switches over at the end
        state.save(data_dir)
        store.delete(state.collection, stale)
