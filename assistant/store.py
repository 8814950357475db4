"""The Chroma adapter: the only module that talks to chromadb (through llama-index's vector store)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .chunking import Chunk
from .models import Document


class StoredChunk(BaseModel):
    """A chunk as read back from the store."""

    chunk_id: str
    source_id: str
    title: str
    outlet: str | None = None
    date: str | None = None
    text: str
    start: int


class ChromaStore:
    """A Chroma database: embedded and persistent under `path`, or a Chroma server at `url` (`chroma run`);
    collections are named by the caller. Both take the same code path from here on."""

    def __init__(self, path: Path, url: str | None = None) -> None:
        import chromadb

        settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
        if url:
            from urllib.parse import urlparse

            from .errors import ConfigurationError

            parts = urlparse(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigurationError(f"ASSISTANT_CHROMA_URL must look like http://host:port, not {url!r}.")
            port = parts.port or (443 if parts.scheme == "https" else 8000)
            try:
                self._client = chromadb.HttpClient(host=parts.hostname, port=port, ssl=parts.scheme == "https",
                                                   settings=settings)
            except Exception as exc:  # chromadb checks the server on connecting; any failure means the same
                raise ConfigurationError(f"No Chroma server answers at {url}: start one (chroma run --path DIR "
                                         "--port PORT) or unset ASSISTANT_CHROMA_URL.") from exc
            return
        path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(path=str(path), settings=settings)

    def _collection(self, name: str) -> Any:
        # Embeddings are always passed in, so Chroma never needs (or downloads) an embedding function.
        return self._client.get_or_create_collection(
            name, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )

    def add(self, collection: str, items: Sequence[tuple[Document, Sequence[Chunk], Sequence[list[float]]]]) -> None:
        """Store the chunks of some documents with their embeddings, in one write."""
        from llama_index.core.schema import BaseNode, TextNode
        from llama_index.vector_stores.chroma import ChromaVectorStore

        nodes: list[BaseNode] = []
        for doc, chunks, embeddings in items:
            meta = {"source_id": doc.source_id, "title": doc.title, "outlet": doc.outlet or "", "date": doc.date or ""}
            nodes.extend(
                TextNode(
                    id_=chunk.chunk_id,
                    text=chunk.text,
                    embedding=list(vector),
                    metadata={**meta, "start": chunk.start, "index": chunk.index},
                )
                for chunk, vector in zip(chunks, embeddings, strict=True)
            )
        if nodes:
            ChromaVectorStore(chroma_collection=self._collection(collection)).add(nodes)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        """Remove chunks by id."""
        if ids:
            self._collection(collection).delete(ids=list(ids))

    def ids(self, collection: str) -> list[str]:
        """Every chunk id in the collection."""
        return list(self._collection(collection).get(include=[])["ids"])

    def chunks(self, collection: str) -> list[StoredChunk]:
        """Every chunk in the collection with its text and metadata."""
        got = self._collection(collection).get(include=["documents", "metadatas"])
        return [
            StoredChunk(
                chunk_id=cid,
                source_id=str(meta["source_id"]),
                title=str(meta["title"]),
                outlet=str(meta.get("outlet") or "") or None,
                date=str(meta.get("date") or "") or None,
                text=text,
                start=int(meta["start"]),  # type: ignore[arg-type]
            )
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]

    def query(self, collection: str, embedding: list[float], n: int) -> list[tuple[str, float]]:
        """Ids of the `n` nearest chunks with cosine similarity, best first."""
        from llama_index.core.vector_stores.types import VectorStoreQuery
        from llama_index.vector_stores.chroma import ChromaVectorStore

        store = ChromaVectorStore(chroma_collection=self._collection(collection))
        result = store.query(VectorStoreQuery(query_embedding=embedding, similarity_top_k=n))
        return list(zip(result.ids or [], result.similarities or [], strict=False))

    def collections(self, prefix: str = "") -> list[str]:
        """Names of the collections that start with `prefix`."""
        return sorted(c.name for c in self._client.list_collections() if c.name.startswith(prefix))

    def drop(self, collection: str) -> None:
        """Delete a whole collection if it exists."""
        if collection in self.collections():
            self._client.delete_collection(collection)


def open_store(path: Path, url: str | None = None) -> tuple[ChromaStore, str | None]:
    """The store under `path` (or the server at `url`), and None; or, when a local database is damaged, a new
    empty one and what happened (the damaged folder is kept beside it, renamed; the next build refills it)."""
    from chromadb.api.shared_system_client import SharedSystemClient
    from chromadb.errors import ChromaError

    if url:
        return ChromaStore(path, url), None
    try:
        store = ChromaStore(path)
        store.collections()  # a damaged database fails on its first read
        return store, None
    except ChromaError as exc:
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        path.rename(aside)
        SharedSystemClient.clear_system_cache()  # chromadb keeps one client per path in the process
        reason = str(exc).split(": ")[-1][:80]
        return ChromaStore(path), (f"The vector store was damaged ({reason}); it was moved aside to {aside.name} "
                                   "and the index was rebuilt from the corpus.")
