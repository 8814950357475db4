"""Incremental index builds: documents keyed by content hash, with a state file as the source of truth.

Documents are embedded and stored in batches (one model call for a batch's passages and sentences, one state save
per batch). The state file (`index.json`) is replaced atomically after each batch, so whatever happens mid-build,
the state names only chunks that are fully stored. Chunks the state does not name are ignored by readers and swept
by the next build. A fresh build (`rebuild`, or a first one) writes a new collection, records its progress in
`index.next.json` and switches over only when it is complete; an interrupted one is resumed, not restarted.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from .chunking import Chunk, chunk_document
from .corpus import Fingerprint, corpus_files, scan_corpus
from .embeddings import Embedder
from .models import Document, IndexReport, Skipped
from .store import ChromaStore
from .vectors import SENTENCE_DIR, SentenceVectors, passage_texts

STATE_FILE = "index.json"
NEXT_FILE = "index.next.json"  # the progress of a fresh build not yet switched to
BATCH_CHUNKS = 256  # passages per batch: large enough for full model batches, small enough to lose little


# (source id, documents done, total): when a batch starts (done so far, the batch's first document), so a long
# first batch shows as indexing from its start, then after each document.
Progress = Callable[[str, int, int], None]


class DocEntry(BaseModel):
    """What the index holds for one document."""

    content_hash: str
    title: str
    outlet: str | None = None
    date: str | None = None
    url: str | None = None
    chunk_ids: list[str]
    fingerprint: Fingerprint | None = None  # of its file: an unchanged file is not cleaned again


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
    def read(cls, data_dir: Path, name: str = STATE_FILE) -> tuple[IndexState | None, str | None]:
        """The saved state (None if there is none) and, when its file is damaged, what is wrong with it."""
        path = data_dir / name
        if not path.exists():
            return None, None
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8")), None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            kind = type(exc).__name__
            return None, (f"The index state file {STATE_FILE} was damaged ({kind}); the index was rebuilt from the "
                          "corpus.")

    def save(self, data_dir: Path, name: str = STATE_FILE) -> None:
        """Write atomically: a crash leaves either the old or the new state, never half of one."""
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / f".{name}.tmp"
        tmp.write_text(self.model_dump_json(), encoding="utf-8")
        os.replace(tmp, data_dir / name)

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
    vectors: SentenceVectors | None = None,
) -> IndexReport:
    """Bring the index in line with the corpus folder, embedding only new or changed documents."""
    started = time.perf_counter()
    corpus_files(corpus_dir)  # a missing or empty folder is reported before anything changes
    sig = signature(embedder, chunk_tokens)
    vectors = vectors or SentenceVectors(data_dir / SENTENCE_DIR)
    old, damage = IndexState.read(data_dir)
    report = IndexReport(repaired=[damage] if damage else [])
    fresh = rebuild or old is None or old.signature != sig
    if old is not None and old.signature != sig:
        report.repaired.append("The index was built by another version or with other settings (embedding model, "
                               "passage size); it was rebuilt from the corpus.")
    resumed = _resumable(data_dir, sig, store, collection) if fresh else None
    # Collections of builds that never finished are not the live one: sweep them (but resume the last one).
    for name in store.collections(prefix=f"{collection}-"):
        if (old is None or name != old.collection) and (resumed is None or name != resumed.collection):
            store.drop(name)
    if fresh:
        state = resumed or IndexState(signature=sig, collection=f"{collection}-{uuid.uuid4().hex[:12]}")
    else:
        assert old is not None
        state = old.model_copy(deep=True)
    if resumed is not None or not fresh:
        _sweep_strays(state, store, vectors, report)
    # Files exactly as indexed are only hashed, not cleaned again (documents marked for embedding again are not).
    known = {sid: e.fingerprint for sid, e in state.docs.items() if e.fingerprint is not None and e.content_hash}
    scan = scan_corpus(corpus_dir, known)
    docs, skipped = scan.docs, scan.skipped
    report.skipped = skipped
    todo = [d for d in docs if d.source_id not in state.docs or state.docs[d.source_id].content_hash != d.content_hash]
    changed = {d.source_id for d in todo}
    same = [d.source_id for d in docs if d.source_id not in changed]  # cleaned again, as indexed: fingerprint it
    for sid in same:
        state.docs[sid].fingerprint = scan.fingerprints[sid]
    if same and not fresh:
        state.save(data_dir)
    report.unchanged = sorted([*same, *scan.unchanged])
    done = 0
    for batch in _batches(todo, embedder, chunk_tokens, report):
        if progress:
            progress(batch[0][0].source_id, done, len(todo))
        stale = _index_batch(batch, state, store, embedder, vectors, scan.fingerprints)
        state.save(data_dir, NEXT_FILE if fresh else STATE_FILE)
        store.delete(state.collection, stale)  # old versions' chunks go only after the state no longer names them
        for doc, _ in batch:
            (report.updated if old and doc.source_id in old.docs else report.added).append(doc.source_id)
            done += 1
            if progress:
                progress(doc.source_id, done, len(todo))
    if fresh:
        state.save(data_dir)  # the switch to the new collection
        (data_dir / NEXT_FILE).unlink(missing_ok=True)
        if old is not None:
            report.removed = sorted(set(old.docs) - set(state.docs))
            if old.collection != state.collection:
                store.drop(old.collection)
    else:
        # A file that is gone leaves the index; one that is merely unreadable now keeps what was indexed.
        present = {d.source_id for d in docs} | set(scan.unchanged) | {Path(s.path).stem for s in skipped}
        gone = sorted(set(state.docs) - present)
        if gone:
            entries = [state.docs.pop(source_id) for source_id in gone]
            state.save(data_dir)
            store.delete(state.collection, [cid for entry in entries for cid in entry.chunk_ids])
            report.removed.extend(gone)
    vectors.sweep(entry.content_hash for entry in state.docs.values())
    report.chunks = len(state.chunk_ids)
    report.seconds = time.perf_counter() - started
    return report


def _resumable(data_dir: Path, sig: str, store: ChromaStore, collection: str) -> IndexState | None:
    """The state of an interrupted fresh build that can be carried on: same settings, its collection still there."""
    state, _ = IndexState.read(data_dir, NEXT_FILE)
    if state is None or state.signature != sig or not state.collection.startswith(f"{collection}-"):
        return None
    return state if state.collection in store.collections(prefix=f"{collection}-") else None


def _sweep_strays(state: IndexState, store: ChromaStore, vectors: SentenceVectors, report: IndexReport) -> None:
    """Drop chunks an interrupted build left behind, and mark for embedding again the documents whose passages
    or sentence vectors are gone (a deleted or replaced database, files removed by hand)."""
    stored = set(store.ids(state.collection))
    store.delete(state.collection, sorted(stored - state.chunk_ids))
    lost = {sid for sid, entry in state.docs.items() if not set(entry.chunk_ids) <= stored}
    bare = {sid for sid, entry in state.docs.items() if sid not in lost and not vectors.has(entry.content_hash)}
    store.delete(state.collection, [cid for sid in sorted(bare) for cid in state.docs[sid].chunk_ids])
    for sid in lost | bare:
        state.docs[sid] = state.docs[sid].model_copy(update={"content_hash": "", "chunk_ids": []})
    if lost:
        report.repaired.append(f"{len(lost)} article(s) had lost their passages from the vector store; they were "
                               "embedded again.")
    if bare:
        report.repaired.append(f"{len(bare)} article(s) had no stored sentence vectors (an index from an older "
                               "version, or files removed); they were embedded again.")


Batch = list[tuple[Document, list[Chunk]]]


def _batches(docs: list[Document], embedder: Embedder, chunk_tokens: int, report: IndexReport) -> Iterator[Batch]:
    """Documents with their chunks, about BATCH_CHUNKS passages at a time; one that cannot be chunked is reported
    and left out (it never stops the build)."""
    batch: Batch = []
    size = 0
    for doc in docs:
        try:
            chunks = chunk_document(doc, embedder.count_tokens, chunk_tokens)
        except ValueError as exc:
            report.skipped.append(Skipped(path=doc.source_id, reason=f"cannot be split into passages: {exc}"))
            continue
        batch.append((doc, chunks))
        size += len(chunks)
        if size >= BATCH_CHUNKS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _index_batch(
    batch: Batch, state: IndexState, store: ChromaStore, embedder: Embedder, vectors: SentenceVectors,
    fingerprints: dict[str, Fingerprint],
) -> list[str]:
    """Embed a batch's passages and sentences in one model call, store both, then record the documents; returns
    the ids of the chunks of their previous versions, to delete once the state is saved."""
    sentences = [list(dict.fromkeys(t for c in chunks for t in passage_texts(c.text))) for _, chunks in batch]
    texts = list(dict.fromkeys([*(c.embed_text for _, chunks in batch for c in chunks),
                                *(t for doc_texts in sentences for t in doc_texts)]))
    embedded = dict(zip(texts, embedder.embed(texts), strict=True))
    for (doc, _), doc_texts in zip(batch, sentences, strict=True):
        vectors.write(doc.content_hash, doc_texts, np.asarray([embedded[t] for t in doc_texts], dtype=np.float32))
    store.add(state.collection, [(doc, chunks, [embedded[c.embed_text] for c in chunks]) for doc, chunks in batch])
    stale: list[str] = []
    for doc, chunks in batch:
        previous = state.docs.get(doc.source_id)
        new_ids = {c.chunk_id for c in chunks}
        stale.extend(cid for cid in (previous.chunk_ids if previous else []) if cid not in new_ids)
        state.docs[doc.source_id] = DocEntry(
            content_hash=doc.content_hash,
            title=doc.title,
            outlet=doc.outlet,
            date=doc.date,
            url=doc.url,
            chunk_ids=[c.chunk_id for c in chunks],
            fingerprint=fingerprints.get(doc.source_id),
        )
    return stale
