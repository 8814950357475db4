"""Sentence-aware chunks that fit the embedding model's window, title included."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from .models import Document
from .sentences import split_sentences

SPECIAL_TOKENS = 2  # [CLS] and [SEP]


class Chunk(BaseModel):
    """A run of whole sentences of one document; `embed_text` is what the model sees."""

    chunk_id: str
    source_id: str
    index: int
    text: str
    start: int
    end: int
    embed_text: str


def embed_text(title: str, text: str) -> str:
    """The title travels with every chunk so a passage is found by its article's subject too."""
    return f"{title}\n{text}"


def chunk_document(doc: Document, count_tokens: Callable[[str], int], max_tokens: int = 256) -> list[Chunk]:
    """Pack consecutive sentences into chunks of at most `max_tokens` model tokens (title and specials counted)."""
    budget = max_tokens - SPECIAL_TOKENS - count_tokens(doc.title)
    if budget < 16:
        raise ValueError(f"title of {doc.source_id} leaves no room for text in a {max_tokens}-token chunk")
    spans: list[tuple[int, int, int]] = []  # (start, end, tokens) of pieces that each fit the budget
    for sent in split_sentences(doc.text):
        n = count_tokens(sent.text)
        if n <= budget:
            spans.append((sent.start, sent.end, n))
        else:
            spans.extend(_split_long(doc.text, sent.start, sent.end, count_tokens, budget))
    groups: list[list[tuple[int, int, int]]] = []
    used = 0
    for span in spans:
        # BERT's tokenizer splits on whitespace first, so token counts of sentences add up exactly.
        if groups and used + span[2] <= budget:
            groups[-1].append(span)
            used += span[2]
        else:
            groups.append([span])
            used = span[2]
    prefix = doc.content_hash[:12]
    chunks = []
    for i, group in enumerate(groups):
        start, end = group[0][0], group[-1][1]
        text = doc.text[start:end]
        chunks.append(
            Chunk(
                chunk_id=f"{doc.source_id}::{prefix}::{i:04d}",
                source_id=doc.source_id,
                index=i,
                text=text,
                start=start,
                end=end,
                embed_text=embed_text(doc.title, text),
            )
        )
    return chunks


def _split_long(
    text: str, start: int, end: int, count_tokens: Callable[[str], int], budget: int
) -> list[tuple[int, int, int]]:
    """Cut an over-long sentence at word boundaries into pieces that fit."""
    pieces: list[tuple[int, int, int]] = []
    words = text[start:end].split(" ")
    piece_start, pos, used = start, start, 0
    for word in words:
        n = count_tokens(word)
        if used and used + n > budget:
            pieces.append((piece_start, pos - 1, used))
            piece_start, used = pos, 0
        used += n
        pos += len(word) + 1
    pieces.append((piece_start, end, used))
    return pieces
