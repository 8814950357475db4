"""Typed values passed between the steps of the chain."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Citation(BaseModel):
    """One cited passage: verbatim from the article it names."""

    marker: int = Field(description="The [n] used in Answer.text.")
    source_id: str = Field(description="Corpus file name without extension.")
    title: str
    outlet: str | None = None
    quote: str = Field(description="Supporting passage, verbatim from the cleaned article.")


class Answer(BaseModel):
    """A short answer whose claims carry [n] markers pointing at citations."""

    text: str
    citations: list[Citation] = Field(default_factory=list)
    found: bool = True
    lead: str | None = Field(
        default=None, description="The direct short answer (first line of `text`, with its [n] markers), if any."
    )


class Message(BaseModel):
    """One chat turn in the chat-messages format."""

    role: Literal["user", "assistant"]
    content: str


class Document(BaseModel):
    """A cleaned article ready to index."""

    source_id: str
    title: str
    text: str
    outlet: str | None = None
    date: str | None = None
    url: str | None = None
    authors: str | None = None
    content_hash: str


class Sentence(BaseModel):
    """A sentence of a document, with its character span in the cleaned text."""

    text: str
    start: int
    end: int


class Passage(BaseModel):
    """A retrieved chunk of a document."""

    chunk_id: str
    source_id: str
    title: str
    outlet: str | None = None
    date: str | None = None
    text: str
    start: int = 0
    score: float = 0.0


class Skipped(BaseModel):
    """A corpus file that was not indexed, and why."""

    path: str
    reason: str


class IndexReport(BaseModel):
    """What one index build did."""

    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """True when the build embedded or removed anything."""
        return bool(self.added or self.updated or self.removed)
