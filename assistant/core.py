"""The Assistant: corpus -> index -> retrieval -> cited answer. Every entry point calls this."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from .attribution import passage_speaker, source_name
from .conversation import Query, resolve
from .disagreement import Sides
from .embeddings import Embedder, MiniLMEmbedder
from .errors import InvalidQuestionError
from .features import VectorCache
from .generation import Generator, ground, make_generator
from .indexing import IndexState, Progress, build_index, signature
from .models import Answer, IndexReport, Message, Passage
from .questions import Question
from .retrieval import LEXICAL_DIR, BM25Retriever, DenseRetriever, HybridRetriever
from .scope import scope
from .settings import Settings
from .store import ChromaStore, open_store
from .text import normalize
from .vectors import SENTENCE_DIR, SentenceVectors, StoredEmbedder

log = logging.getLogger(__name__)
_PASTED_MARKERS = re.compile(r"\[\d+\]")
OUTLET_DEPTH = 5  # times top_k fetched when the question names an outlet, so its articles fill the top_k
PER_SOURCE_PASSAGES = 2  # passages per article in the per-source view: its best two are where it answers, if at all
LIST_SILENT = 12  # the per-source view names each article that says nothing up to this many, then counts them


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
        # Sentence vectors stored by the build are looked up rather than computed again for every question.
        self.vectors = SentenceVectors(self.settings.data_dir / SENTENCE_DIR)
        base = embedder or MiniLMEmbedder()
        if isinstance(base, StoredEmbedder):  # another Assistant's: share its model, not its data dir's vectors
            base = base.base
        self.embedder = StoredEmbedder(base, self.vectors)
        self.generator: Generator = generator or make_generator(self.settings, self.embedder)
        self._store: ChromaStore | None = None
        self._retriever: HybridRetriever | None = None
        self._state: IndexState | None = None
        self._lock = threading.Lock()  # guards the live retriever: held only to read or replace it
        self._build_lock = threading.RLock()  # one build at a time; questions go on meanwhile
        self._repairs: list[str] = []  # damage found on opening, reported by the next build
        self._sides = Sides(VectorCache(self.embedder, capacity=4096).get)

    @property
    def store(self) -> ChromaStore:
        """The Chroma database under the data directory (opened on first use; a damaged one is set aside)."""
        if self._store is None:
            self._store, damage = open_store(self.settings.data_dir / "chroma", self.settings.chroma_url)
            if damage:
                self._repairs.append(damage)
        return self._store

    def index(self, *, rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        """Build or update the index from the corpus folder; returns what changed, what was skipped and what
        damage was repaired. Questions keep being answered from the previous index until the build is done."""
        with self._build_lock:
            report = self._index(rebuild=rebuild, progress=progress)
        with self._lock:
            self._retriever = None  # the next question loads what changed
        return report

    def _index(self, *, rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        store = self.store
        report = build_index(
            self.settings.corpus_dir,
            self.settings.data_dir,
            store,
            self.embedder,
            collection=self.settings.collection,
            chunk_tokens=self.settings.chunk_tokens,
            rebuild=rebuild,
            progress=progress,
            vectors=self.vectors,
        )
        if self._repairs:
            report.repaired[:0], self._repairs = self._repairs, []
        for line in report.repaired:
            log.warning("%s", line)
        return report

    def _needs_build(self, state: IndexState | None) -> bool:
        """No usable index: none yet, a damaged or outdated one, or one whose passages left the vector store."""
        if state is None or state.signature != signature(self.embedder, self.settings.chunk_tokens):
            return True
        return bool(self._repairs) or not state.chunk_ids <= set(self.store.ids(state.collection))

    def retriever(self) -> HybridRetriever:
        """The hybrid retriever (dense + BM25) over the current index; builds or repairs the index first when
        there is no usable one, so a question is never answered from an empty or damaged index."""
        with self._lock:
            if self._retriever is None:
                state = IndexState.load(self.settings.data_dir)
                if self._needs_build(state):
                    with self._build_lock:
                        self._index()
                    state = IndexState.load(self.settings.data_dir)
                assert state is not None
                live = state.chunk_ids
                lexical = BM25Retriever.cached(
                    self.settings.data_dir / LEXICAL_DIR, "\n".join([state.collection, *sorted(live)]),
                    lambda: [c for c in self.store.chunks(state.collection) if c.chunk_id in live])
                dense = DenseRetriever(self.store, state.collection, self.embedder, lexical.chunks)
                self._retriever = HybridRetriever(
                    [dense, lexical], candidates=self.settings.candidates,
                    rrf_k=self.settings.rrf_k,
                    per_source=self.settings.per_source,
                )
                self._state = state
            return self._retriever

    def retrieve(
        self, question: str, history: Sequence[dict[str, Any] | Message] | None = None, *, by_source: bool = False
    ) -> list[Passage]:
        """The passages the answerer would see for this question."""
        return self._passages(self.resolve(question, history, by_source=by_source))

    def resolve(
        self, question: str, history: Sequence[dict[str, Any] | Message] | None = None, *, by_source: bool = False
    ) -> Query:
        """The question standing alone (follow-ups resolved against the history), with the outlets it names."""
        question, turns = self._validate(question, history)
        query = resolve(question, turns)
        rewrite = getattr(self.generator, "rewrite", None)
        if query.followup and rewrite is not None:
            # An answerer with a language model rewrites the follow-up itself (prompts/followup.txt).
            standalone = rewrite(question, turns)
            if standalone:
                query = query.model_copy(update={"text": standalone, "form": standalone, "referents": []})
        self.retriever()  # the index state names the outlets
        outlets = [d.outlet for d in self._state.docs.values() if d.outlet] if self._state else []
        query = scope(query, outlets)
        return query.model_copy(update={"by_source": True}) if by_source else query

    def ask(
        self, question: str, history: Sequence[dict[str, Any] | Message] | None = None, *, by_source: bool = False
    ) -> Answer:
        """Answer a question (with optional chat history) from the corpus, citing verbatim quotes.

        `by_source=True` answers source by source: one line per article with what it says on the question.
        """
        query = self.resolve(question, history, by_source=by_source)  # once: retriever and answerer both take it
        passages = self._passages(query)
        return self._finish(self.generator.answer(query, passages), query, passages)

    def ask_stream(
        self, question: str, history: Sequence[dict[str, Any] | Message] | None = None, *, by_source: bool = False
    ) -> Iterator[str | Answer]:
        """Like `ask`, for answerers that draft with a language model: the unverified draft piece by piece (str),
        then the verified Answer, which replaces the draft. Other answerers yield the Answer alone."""
        query = self.resolve(question, history, by_source=by_source)
        passages = self._passages(query)
        draft = getattr(self.generator, "draft", None)
        finish = getattr(self.generator, "finish", None)
        if draft is None or finish is None:
            yield self._finish(self.generator.answer(query, passages), query, passages)
            return
        pieces: list[str] = []
        for piece in draft(query, passages):
            pieces.append(piece)
            yield piece
        yield self._finish(finish("".join(pieces), query, passages), query, passages)

    def _finish(self, answer: Answer, query: Query, passages: list[Passage]) -> Answer:
        """Grounded, attributed, and for the per-source view with the silent articles named."""
        answer = self._annotate(ground(answer, passages), query, passages)
        return self._silent(answer) if query.by_source and not query.outlets else answer

    def _annotate(self, answer: Answer, query: Query, passages: list[Passage]) -> Answer:
        """Whatever answerer wrote it: each citation names its speaker, and conflicting citations are shown."""
        by_id: dict[str, list[Passage]] = {}
        for p in passages:
            by_id.setdefault(p.source_id, []).append(p)
        citations = [
            c if c.speaker is not None else c.model_copy(update={"speaker": next(
                (passage_speaker(c.quote, p) for p in by_id.get(c.source_id, []) if c.quote in p.text), None)})
            for c in answer.citations
        ]
        update: dict[str, Any] = {"citations": citations}
        if answer.found and not answer.disagreements:
            update["disagreements"] = self._sides.disagreements(Question.of(query.form), citations)
        return answer.model_copy(update=update)

    def _silent(self, answer: Answer) -> Answer:
        """The per-source view names the articles that say nothing on the question."""
        docs = self._state.docs if self._state else {}
        cited = {c.source_id for c in answer.citations}
        silent = [source_name(sid, d.outlet) for sid, d in sorted(docs.items()) if sid not in cited]
        if not silent or not answer.found:
            return answer
        shown = ", ".join(silent[:LIST_SILENT]) + (f" and {len(silent) - LIST_SILENT} more" if len(silent) >
                                                  LIST_SILENT else "")
        line = f"Nothing on this in: {shown}."
        return answer.model_copy(update={"text": f"{answer.text}\n{line}", "silent": silent})

    def _passages(self, query: Query) -> list[Passage]:
        passages = self._retrieve(query)
        docs = self._state.docs if self._state else {}
        self.vectors.load(docs[p.source_id].content_hash for p in passages if p.source_id in docs)
        return passages

    def _retrieve(self, query: Query) -> list[Passage]:
        k = self.settings.top_k
        if query.by_source and not query.outlets:
            # One line per article: each article's best passages, so an article that answers is not crowded out.
            deep = self.retriever().retrieve(query.text, k * OUTLET_DEPTH)
            taken: dict[str, int] = {}
            kept = []
            for p in deep:
                if taken.get(p.source_id, 0) < PER_SOURCE_PASSAGES:
                    taken[p.source_id] = taken.get(p.source_id, 0) + 1
                    kept.append(p)
            return kept
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
        # "[1] [2]" copied along with a previous answer are markers, not words of the question; and the question is
        # read with the articles' typography ("CENTCOM\u2019s" as "CENTCOM's"), as the corpus was cleaned.
        question = normalize(_PASTED_MARKERS.sub(" ", question))
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
