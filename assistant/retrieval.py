"""Retrievers: dense (Chroma), lexical (BM25, bm25s) and their reciprocal-rank fusion."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from pydantic import TypeAdapter

from .chunking import embed_text
from .embeddings import Embedder
from .models import Passage
from .store import ChromaStore, StoredChunk


class Retriever(Protocol):
    """Finds the passages most relevant to a query, best first."""

    def retrieve(self, query: str, k: int) -> list[Passage]:
        """Up to `k` passages, best first."""
        ...


def _passage(chunk: StoredChunk, score: float) -> Passage:
    return Passage(
        chunk_id=chunk.chunk_id,
        source_id=chunk.source_id,
        title=chunk.title,
        outlet=chunk.outlet,
        date=chunk.date,
        text=chunk.text,
        start=chunk.start,
        score=score,
    )


class DenseRetriever:
    """Nearest chunks by MiniLM cosine similarity, restricted to the chunks the index state names."""

    def __init__(self, store: ChromaStore, collection: str, embedder: Embedder, chunks: Sequence[StoredChunk]):
        self.store, self.collection, self.embedder = store, collection, embedder
        self.chunks = {c.chunk_id: c for c in chunks}

    def retrieve(self, query: str, k: int) -> list[Passage]:
        """Up to `k` passages, best first."""
        # Over-fetch a little: stale chunks from an interrupted build are filtered out here.
        hits = self.store.query(self.collection, self.embedder.embed_query(query), k + 8)
        out = [_passage(self.chunks[cid], score) for cid, score in hits if cid in self.chunks]
        return out[:k]


LEXICAL_DIR = "lexical"  # the passages and their BM25 index, saved at first use so later starts just load them
_CHUNKS = TypeAdapter(list[StoredChunk])


class BM25Retriever:
    """Okapi BM25 over chunk text plus title, English stop words removed and Snowball stemming (bm25s, as
    llama-index's BM25 retriever uses it)."""

    def __init__(self, chunks: Sequence[StoredChunk], model: Any = None):
        import Stemmer

        self.chunks = list(chunks)
        self._stemmer = Stemmer.Stemmer("english")
        self._bm25 = model if model is not None or not self.chunks else self._index(self.chunks, self._stemmer)

    @staticmethod
    def _index(chunks: Sequence[StoredChunk], stemmer: Any) -> Any:
        import bm25s

        tokens = bm25s.tokenize([embed_text(c.title, c.text) for c in chunks], stopwords="english", stemmer=stemmer,
                                show_progress=False)
        model = bm25s.BM25()
        model.index(tokens, show_progress=False)
        return model

    def retrieve(self, query: str, k: int) -> list[Passage]:
        """Up to `k` passages, best first; passages sharing no term with the query are left out."""
        import bm25s

        if self._bm25 is None:
            return []
        tokens = bm25s.tokenize(query, stemmer=self._stemmer, show_progress=False)
        indexes, scores = self._bm25.retrieve(tokens, k=min(k, len(self.chunks)), show_progress=False)
        return [_passage(self.chunks[int(i)], float(score)) for i, score in zip(indexes[0], scores[0], strict=True)
                if score > 0]

    @classmethod
    def cached(cls, folder: Path, key: str, load_chunks: Any) -> BM25Retriever:
        """The retriever for the index state `key` names: loaded from `folder` when it was saved there before,
        else built from `load_chunks()` and saved (atomically; other states' copies are removed)."""
        import bm25s

        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        saved = folder / digest
        if (saved / "chunks.json").exists():
            try:
                chunks = _CHUNKS.validate_json((saved / "chunks.json").read_bytes())
                return cls(chunks, bm25s.BM25.load(str(saved)) if chunks else None)
            except (OSError, ValueError, KeyError):
                pass  # damaged: built again below
        retriever = cls(load_chunks())
        try:
            tmp = folder / f".{digest}-{uuid.uuid4().hex[:8]}"
            tmp.mkdir(parents=True)
            if retriever._bm25 is not None:
                retriever._bm25.save(str(tmp))
            (tmp / "chunks.json").write_bytes(_CHUNKS.dump_json(retriever.chunks))
            shutil.rmtree(saved, ignore_errors=True)
            os.replace(tmp, saved)
            for other in folder.iterdir():
                if other.name != digest:
                    shutil.rmtree(other, ignore_errors=True)
        except OSError:
            pass  # a read-only data dir: answer anyway, build again next time
        return retriever


class HybridRetriever:
    """Reciprocal-rank fusion of several retrievers: score = sum of 1 / (rrf_k + rank)."""

    def __init__(
        self, retrievers: Sequence[Retriever], candidates: int = 20, rrf_k: int = 60, per_source: int | None = None
    ):
        self.retrievers, self.candidates, self.rrf_k = list(retrievers), candidates, rrf_k
        self.per_source = per_source

    def retrieve(self, query: str, k: int) -> list[Passage]:
        """Up to `k` fused passages, best first; `score` is the fused score."""
        fused: dict[str, float] = {}
        first: dict[str, Passage] = {}
        for retriever in self.retrievers:
            for rank, passage in enumerate(retriever.retrieve(query, max(k, self.candidates)), start=1):
                fused[passage.chunk_id] = fused.get(passage.chunk_id, 0.0) + 1.0 / (self.rrf_k + rank)
                first.setdefault(passage.chunk_id, passage)
        ranked = sorted(fused, key=lambda cid: (-fused[cid], cid))
        if self.per_source:
            # Several outlets rather than one outlet's every paragraph: sources disagree, the answer shows it.
            taken: dict[str, int] = {}
            capped: list[str] = []
            rest: list[str] = []
            for cid in ranked:
                src = first[cid].source_id
                (capped if taken.get(src, 0) < self.per_source else rest).append(cid)
                taken[src] = taken.get(src, 0) + 1
            ranked = capped + rest
        return [first[cid].model_copy(update={"score": fused[cid]}) for cid in ranked[:k]]
