"""The Assistant: corpus -> index -> retrieval -> cited answer. Every entry point calls this."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from .conversation import Query, resolve
from .embeddings import Embedder, MiniLMEmbedder
from .errors import InvalidQuestionError
from .generation import Generator, ground, make_generator
from .indexing import IndexState, Progress, build_index, signature
from .models import Answer, IndexReport, Message, Passage
from .retrieval import BM25Retriever, DenseRetriever, HybridRetriever
from .scope import scope
from .settings import Settings
from .store import ChromaStore

_PASTED_MARKERS = re.compile(r"\[\d+\]")
OUTLET_DEPTH = 5  # times top_k fetched when the question names an outlet, so its articles fill the top_k


class IndexStatus(BaseModel):
    """What is indexed and which answerer is in use."""

    documents: int
    chunks: int
    generator: str


class Assistant:
    """Answers questions about a folder of articles with cited, verbatim quotes."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.embedder: Embedder = embedder or MiniLMEmbedder()
        self.generator: Generator = generator or make_generator(self.settings, self.embedder)
        self._store: ChromaStore | None = None
        self._retriever: HybridRetriever | None = None
        self._state: IndexState | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> ChromaStore:
        """The Chroma database under the data directory (opened on first use)."""
        if self._store is None:
            self._store = ChromaStore(self.settings.data_dir / "chroma")
        return self._store

    def index(self, *, rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        """Build or update the index from the corpus folder; returns what changed and what was skipped."""
        with self._lock:
            return self._index(rebuild=rebuild, progress=progress)

    def _index(self, *, rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        report = build_index(
            self.settings.corpus_dir,
            self.settings.data_dir,
            self.store,
            self.embedder,
            collection=self.settings.collection,
            chunk_tokens=self.settings.chunk_tokens,
            rebuild=rebuild,
            progress=progress,
        )
        self._retriever = None  # reload what changed on the next question
        return report

    def retriever(self) -> HybridRetriever:
        """The hybrid retriever (dense + BM25) over the current index, building the index on first use."""
        with self._lock:
            if self._retriever is None:
                state = IndexState.load(self.settings.data_dir)
                if state is None or state.signature != signature(self.embedder, self.settings.chunk_tokens):
                    self._index()
                    state = IndexState.load(self.settings.data_dir)
                assert state is not None
                live = state.chunk_ids
                chunks = [c for c in self.store.chunks(state.collection) if c.chunk_id in live]
                dense = DenseRetriever(self.store, state.collection, self.embedder, chunks)
                self._retriever = HybridRetriever(
                    [dense, BM25Retriever(chunks)], candidates=self.settings.candidates,
                    rrf_k=self.settings.rrf_k,
                    per_source=self.settings.per_source,
                )
                self._state = state
            return self._retriever

    def retrieve(self, question: str, history: Sequence[dict[str, Any] | Message] | None = None) -> list[Passage]:
        """The passages the answerer would see for this question."""
        return self._passages(self.resolve(question, history))

    def resolve(self, question: str, history: Sequence[dict[str, Any] | Message] | None = None) -> Query:
        """The question standing alone (follow-ups resolved against the history), with the outlets it names."""
        query = resolve(*self._validate(question, history))
        self.retriever()  # the index state names the outlets
        outlets = [d.outlet for d in self._state.docs.values() if d.outlet] if self._state else []
        return scope(query, outlets)

    def ask(self, question: str, history: Sequence[dict[str, Any] | Message] | None = None) -> Answer:
        """Answer a question (with optional chat history) from the corpus, citing verbatim quotes."""
        query = self.resolve(question, history)  # once: the retriever and the answerer both take it
        passages = self._passages(query)
        return ground(self.generator.answer(query, passages), passages)

    def _passages(self, query: Query) -> list[Passage]:
        k = self.settings.top_k
        if not query.outlets:
            return self.retriever().retrieve(query.text, k)
        # "What does Press TV say about ...": only that outlet's articles are evidence.
        deep = self.retriever().retrieve(query.text, k * OUTLET_DEPTH)
        return [p for p in deep if p.outlet in query.outlets][:k]

    def status(self) -> IndexStatus:
        """Counts of what is indexed, and the answerer in use."""
        self.retriever()
        state = self._state
        return IndexStatus(
            documents=len(state.docs) if state else 0,
            chunks=len(state.chunk_ids) if state else 0,
            generator=self.generator.name,
        )

    def _validate(
        self, question: str, history: Sequence[dict[str, Any] | Message] | None
    ) -> tuple[str, list[Message]]:
        if question is None:
            raise InvalidQuestionError('No question was given (None): pass a string such as "Who did Iran blame?".')
        if not isinstance(question, str):
            kind = type(question).__name__
            raise InvalidQuestionError(
                f'The question must be text, not {kind}: pass a string such as "Who did Iran blame?".'
            )
        # "[1] [2]" copied along with a previous answer are markers, not words of the question.
        question = _PASTED_MARKERS.sub(" ", question)
        if not question.strip():
            raise InvalidQuestionError("The question is empty: type a question about the articles.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise InvalidQuestionError(
                f"The question is {len(question):,} characters long; the limit is {limit:,}. Shorten it."
            )
        try:
            turns = [m if isinstance(m, Message) else Message.model_validate(m) for m in history or []]
        except ValidationError as exc:
            raise InvalidQuestionError(
                'history must be a list of {"role": "user" or "assistant", "content": "..."} messages.'
            ) from exc
        size = sum(len(m.content) for m in turns)
        if size > self.settings.max_history_chars:
            raise InvalidQuestionError(
                f"The conversation history is {size:,} characters; the limit is {self.settings.max_history_chars:,}. "
                "Start a new conversation, or send only the last few turns."
            )
        return question.strip(), turns
