"""Sentence vectors computed when an article is indexed, so that answering a question embeds only the question.

The answerers compare the question with every sentence, sentence pair and long-sentence clause of the passages they
are given, and the disagreement check reads the words around each negation. All of these depend only on a
passage's text, so the build embeds them once per article, in the same model call as its passages, and keeps them
beside the index: one file per article version, `sentences/<content hash>.npz`, holding a 64-bit hash of each text
and its vector in float16. Before answering, the files of the articles the passages come from are loaded; a text
with no stored vector (a language model's quote, a file deleted by hand) is embedded then, as before.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .disagreement import negation_windows
from .embeddings import Embedder
from .features import candidates, clauses
from .models import Passage

SENTENCE_DIR = "sentences"
LOADED_ARTICLES = 256  # articles whose vectors stay in memory (~100 vectors each: ~40 MB at float32)
STORED_DTYPE = np.float16  # halves the disk; cosines move by < 1e-3 (measured in tests/test_vectors.py)


def passage_texts(text: str) -> list[str]:
    """Every text the answerers embed for a passage with this text: its candidate sentences and sentence pairs,
    their clauses, and the words around each negation."""
    passage = Passage(chunk_id="", source_id="", title="", text=text, start=0, score=0.0)
    out: dict[str, None] = {}
    for cand in candidates([passage]):
        out[cand.text] = None
        out.update(dict.fromkeys(clauses(cand.text)))
        out.update(dict.fromkeys(negation_windows(cand.text)))
    return list(out)


def _key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


class SentenceVectors:
    """The stored sentence vectors of an index: written by the build, loaded per question, least recently used
    articles dropped from memory first."""

    def __init__(self, root: Path, capacity: int = LOADED_ARTICLES) -> None:
        self.root, self.capacity = root, capacity
        self._loaded: OrderedDict[str, list[int]] = OrderedDict()  # article version -> its keys
        self._vectors: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def path(self, content_hash: str) -> Path:
        """The file of one article version."""
        return self.root / f"{content_hash}.npz"

    def has(self, content_hash: str) -> bool:
        """Whether the vectors of this article version are stored."""
        return self.path(content_hash).exists()

    def write(self, content_hash: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store an article's vectors atomically: a crash leaves the old file or the new one, never half of one."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{content_hash}.tmp.npz"
        keys = np.fromiter((_key(t) for t in texts), dtype=np.uint64, count=len(texts))
        stored = np.asarray(vectors, dtype=STORED_DTYPE).reshape(len(texts), -1) if texts else np.zeros((0, 0))
        np.savez(tmp, keys=keys, vectors=stored)
        os.replace(tmp, self.path(content_hash))

    def sweep(self, keep: Iterable[str]) -> None:
        """Remove the files of article versions no longer indexed, and any left half-written."""
        if not self.root.is_dir():
            return
        wanted = {f"{h}.npz" for h in keep}
        for path in self.root.iterdir():
            if path.name not in wanted:
                path.unlink(missing_ok=True)

    def load(self, content_hashes: Iterable[str]) -> None:
        """Bring these articles' vectors into memory (a missing or unreadable file is skipped: its texts will be
        embedded when asked for)."""
        for content_hash in dict.fromkeys(content_hashes):
            with self._lock:
                if content_hash in self._loaded:
                    self._loaded.move_to_end(content_hash)
                    continue
            try:
                with np.load(self.path(content_hash)) as data:
                    keys, vectors = data["keys"], data["vectors"].astype(np.float32)
            except (OSError, ValueError, KeyError):
                continue
            with self._lock:
                self._loaded[content_hash] = keys.tolist()
                self._vectors.update(zip(self._loaded[content_hash], vectors, strict=True))
                while len(self._loaded) > self.capacity:
                    for key in self._loaded.popitem(last=False)[1]:
                        self._vectors.pop(key, None)  # a text two articles share is embedded again if asked for

    def find(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those `texts` that are loaded."""
        keys = {text: _key(text) for text in texts}
        with self._lock:
            return {text: self._vectors[key] for text, key in keys.items() if key in self._vectors}


class StoredEmbedder:
    """An Embedder that answers from the stored sentence vectors where it can and embeds only the rest."""

    def __init__(self, base: Embedder, vectors: SentenceVectors) -> None:
        self.base, self.vectors = base, vectors
        self.name = base.name

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embeddings of passages, one per text: stored ones looked up, the others computed."""
        found = self.vectors.find(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        computed = dict(zip(missing, self.base.embed(missing), strict=True)) if missing else {}
        return [computed[t] if t in computed else found[t].tolist() for t in texts]

    def embed_query(self, text: str) -> list[float]:
        """Embedding of a search query (always computed: questions are new)."""
        return self.base.embed_query(text)

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` as the model counts them."""
        return self.base.count_tokens(text)
