"""Retrievers: dense (Chroma), lexical (BM25 via llama-index) and their reciprocal-rank fusion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

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


class BM25Retriever:
    """Okapi BM25 over chunk text plus title, with English stemming (llama-index's bm25s retriever)."""

    def __init__(self, chunks: Sequence[StoredChunk]):
        import Stemmer
        from llama_index.core.schema import BaseNode, TextNode
        from llama_index.retrievers.bm25 import BM25Retriever as LlamaBM25

        self.chunks = {c.chunk_id: c for c in chunks}
        nodes: list[BaseNode] = [TextNode(id_=c.chunk_id, text=embed_text(c.title, c.text)) for c in chunks]
        self._bm25 = LlamaBM25.from_defaults(
            nodes=nodes, stemmer=Stemmer.Stemmer("english"), language="english", similarity_top_k=1
        ) if nodes else None

    def retrieve(self, query: str, k: int) -> list[Passage]:
        """Up to `k` passages, best first; passages sharing no term with the query are left out."""
        if self._bm25 is None:
            return []
        self._bm25.similarity_top_k = min(k, len(self.chunks))
        hits = self._bm25.retrieve(query)
        return [_passage(self.chunks[h.node.node_id], float(h.score or 0.0)) for h in hits if (h.score or 0) > 0]


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
