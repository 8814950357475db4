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
    speaker: str | None = Field(
        default=None, description="Who the quote reports as making the claim; None for the outlet's own narration."
    )


class Position(BaseModel):
    """One side of a disagreement: what some sources say on the point, and where."""

    claim: str = Field(description='The side in a few words ("three", "No", "the U.S.").')
    markers: list[int] = Field(description="The [n] of the citations that state this side.")


class Disagreement(BaseModel):
    """A point on which the cited sources give incompatible answers."""

    point: str = Field(description="The question the sources answer differently.")
    kind: str = Field(description="number, yesno or entity: how the sides were told apart.")
    positions: list[Position]


class Answer(BaseModel):
    """A short answer whose claims carry [n] markers pointing at citations."""

    text: str
    citations: list[Citation] = Field(default_factory=list)
    found: bool = True
    lead: str | None = Field(
        default=None, description="The direct short answer (first line of `text`, with its [n] markers), if any."
    )
    disagreements: list[Disagreement] = Field(default_factory=list)
    silent: list[str] = Field(
        default_factory=list, description="Per-source view: the articles that say nothing on the question."
    )
    dropped: list[str] = Field(
        default_factory=list, description="Sentences a language model wrote that no given passage supports, removed."
    )
    notes: list[str] = Field(default_factory=list, description="What the reader should know about how it was made.")
    nearest: list[Citation] = Field(
        default_factory=list, description="Only with 'not found': the passages that come closest, verbatim, for the "
        "reader to judge. They do not answer the question, so they are not claims: `text` and `citations` hold none.")


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
    repaired: list[str] = Field(default_factory=list, description="Damage found in the index and how it was fixed.")
    chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """True when the build embedded or removed anything."""
        return bool(self.added or self.updated or self.removed)
