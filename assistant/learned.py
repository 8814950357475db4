"""The learned answerer: a model picks the source sentences that answer and the span that answers first.

No LLM; `ASSISTANT_GENERATOR=learned`. `prepare` turns a question and its passages into candidates with features
(no model involved); `decide` applies the learned model (assistant/answer_model.json, written by `make train`):
sentence probabilities, a calibrated refusal floor, the direct answer (a short span, verbatim, with its markers),
then the claims that back it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from .attribution import cite, claim_label, closest, source_name
from .conversation import Query
from .disagreement import Sides
from .embeddings import Embedder
from .extractive import NOT_FOUND
from .features import SENTENCE_FEATURES, Candidate, VectorCache, candidates, embed, featurize
from .models import Answer, Citation, Passage
from .questions import Question
from .ranker import MODEL_FILE, AnswerModel
from .spans import SPAN_FEATURES, Span, holds, normalize, span_features, spans
from .terms import content_terms

SPAN_POOL = 5  # the lead is looked for in the few best sentences only: further down they rarely answer
SUPPORT_POOL = 12  # sentences counted when measuring how many sources repeat a span
RIVAL_SHARE = 0.5  # a different number at least half as likely as the best one is shown beside it, not hidden
DUPLICATE = 0.8  # cosine above which two sentences say the same thing (a repeat becomes a supporting citation)
MAX_SUPPORT = 2  # supporting citations per claim: enough to show agreement without a quote pile
# Answer types with a crisp short answer; a yes/no or "what did X say" question has none a span could give.
LEAD_TYPES = frozenset({"person", "number", "time", "place", "entity"})
# A when-question is answered by a time and a how-many question by a number, whenever the sentences hold one: the
# training questions are too few of these kinds (4 dated, 26 numeric of 288) for the span model to learn it.
EXACT_KINDS = frozenset({"time", "number"})


@dataclass
class Evidence:
    """A question and its candidate sentences with their features: everything `decide` needs."""

    question: Question
    cands: list[Candidate]
    X: np.ndarray
    by_source: bool = False  # the question asks how the sources compare: each source's best sentence is shown
    q_vec: np.ndarray | None = None  # the question's embedding, kept so features can be recomputed
    spans: dict[int, list[Span]] = field(default_factory=dict)  # by candidate order, filled on demand


@dataclass
class _Claim:
    lead: Candidate
    support: list[Candidate] = field(default_factory=list)


def _restates(span: str, asked: frozenset[str]) -> bool:
    """Whether a span is made only of words the question already has."""
    terms = set(content_terms(span))
    return bool(terms) and terms <= asked


class LearnedGenerator:
    """Scores each sentence of the retrieved passages with the learned model and keeps the strongest few."""

    name = "learned"

    def __init__(
        self,
        embedder: Embedder,
        *,
        model: AnswerModel | None = None,
        max_sentences: int = 3,
        cache_size: int = 50_000,
        cache: VectorCache | None = None,
    ) -> None:
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.cache = cache or VectorCache(embedder, cache_size)
        self.sides = Sides(self.cache.get)
        self._model = model

    @cached_property
    def model(self) -> AnswerModel:
        """The learned model (read from the package's model file on first use)."""
        model = self._model or AnswerModel.load(MODEL_FILE)
        model.sentence.check(SENTENCE_FEATURES, "sentence")
        model.span.check(SPAN_FEATURES, "span")
        return model

    def answer(self, query: Query, passages: Sequence[Passage]) -> Answer:
        """An answer built from verbatim sentences, or a 'not found' answer when the evidence is weak."""
        return self.decide(self.prepare(query, passages))

    def prepare(self, query: Query, passages: Sequence[Passage]) -> Evidence:
        """Candidates and their features for a question; no model involved."""
        question = Question.of(query.form)
        if query.text != query.form:
            # A follow-up without a name to put in: the previous question's words help find the passage, while
            # the wording of the question asked now still says what kind of answer is wanted.
            terms = tuple(dict.fromkeys([*question.terms, *content_terms(query.text)]))
            question = replace(question, terms=terms)
        cands = candidates(passages)
        if not cands:
            return Evidence(question, [], np.zeros((0, len(SENTENCE_FEATURES)), dtype=np.float32), query.by_source)
        embed(cands, self.cache)
        q_vec = np.asarray(self.embedder.embed_query(query.text), dtype=np.float32)
        return Evidence(question, cands, featurize(question, q_vec, cands, self.cache.get), query.by_source, q_vec)

    def decide(
        self, ev: Evidence, model: AnswerModel | None = None, leads: tuple[Span | None, Span | None] | None = None
    ) -> Answer:
        """Apply the model: refuse below the calibrated floor, else a lead span and the claims that back it.
        `leads`: the lead spans this model already found for `ev` (training tries many claim floors per model)."""
        model = model or self.model
        ranked = self.rank(ev, model)
        if not ranked or ranked[0].probability < model.refuse_below:
            # The closest passages go with the refusal when they beat what off-topic questions get (`make train`).
            nearest = closest((c.text, c.passage) for c in ranked if c.probability >= model.near_floor)
            return Answer(text=NOT_FOUND, citations=[], found=False, nearest=nearest)
        best, rival = leads if leads is not None else self.lead_spans(ev, ranked, model)
        first = [s.cand for s in (best, rival) if s is not None]
        if ev.by_source:
            # "Do the outlets disagree about X?": each source's best sentence that is a fair answer, side by side.
            per_source: dict[str, Candidate] = {}
            for cand in ranked:
                if cand.probability >= model.refuse_below:
                    per_source.setdefault(cand.passage.source_id, cand)
            first = list(dict.fromkeys([*first, *per_source.values()]))
        claims = self._select(ranked, model, first=first, limit=max(self.max_sentences, len(first)))
        return self._compose(claims, best, rival, ev.question)

    def rank(self, ev: Evidence, model: AnswerModel) -> list[Candidate]:
        """Candidates with their probability of answering, best first."""
        for cand, p in zip(ev.cands, model.sentence.probability(ev.X), strict=True):
            cand.probability = float(p)
        return sorted(ev.cands, key=lambda c: (-c.probability, c.order))

    def lead_for(self, query: Query, passages: Sequence[Passage], quotes: Sequence[str]) -> Span | None:
        """The best short answer span inside the given quotes (sentences another answerer chose), for questions
        that ask for a name, number, date, place or entity; None for the others."""
        if Question.of(query.form).answer_type not in LEAD_TYPES:
            return None  # decided from the wording alone, before any sentence is featurized
        return self.lead_among(self.prepare(query, passages), quotes, self.model)

    def lead_among(self, ev: Evidence, quotes: Sequence[str], model: AnswerModel) -> Span | None:
        """`lead_for` on prepared evidence: the best non-clause span of `model` in the few best of the quoted
        sentences (training calibrates the default's lead floor with it, out of fold)."""
        if ev.question.answer_type not in LEAD_TYPES or not ev.cands:
            return None
        ranked = self.rank(ev, model)
        chosen = set(quotes)
        pool = [c for c in ranked if c.text in chosen][:SPAN_POOL]
        best, _ = self.lead_spans(ev, ranked, model, pool=pool) if pool else (None, None)
        return best if best is not None and best.kind != "clause" else None

    def lead_spans(
        self, ev: Evidence, ranked: list[Candidate], model: AnswerModel, pool: list[Candidate] | None = None
    ) -> tuple[Span | None, Span | None]:
        """The best short answer span, and a rival number from another source when sources differ on it."""
        if pool is None:
            pool = [c for c in ranked[:SPAN_POOL] if c.probability >= model.refuse_below] or ranked[:1]
        for c in pool:
            if c.order not in ev.spans:
                ev.spans[c.order] = spans(c, ev.question)
        found = [s for c in pool for s in ev.spans[c.order]]
        if ev.question.answer_type in EXACT_KINDS:
            found = [s for s in found if s.kind == ev.question.answer_type] or found
        # A span made only of the question's own words restates it ("Who succeeded al-Kadhimi?" - "Mr. Kadhimi").
        asked = ev.question.known
        found = [s for s in found if not _restates(s.text, asked)] or found
        if not found:
            return None, None
        for span, p in zip(found, model.span.probability(
                span_features(ev.question, found, ranked[:SUPPORT_POOL], self.cache.get)),
                           strict=True):
            span.probability = float(p)
        found.sort(key=lambda s: (-s.probability, s.cand.order, s.start))
        best = found[0]
        rival = None
        if best.kind == "number":
            key = normalize(best.text)
            rival = next(
                (s for s in found[1:] if s.kind == "number" and s.probability >= RIVAL_SHARE * best.probability
                 and s.cand.passage.source_id != best.cand.passage.source_id
                 and key not in normalize(s.text) and normalize(s.text) not in key
                 and not holds(s.cand.answer, best.text)),  # its sentence says the best one too
                None,
            )
        return best, rival

    def _select(
        self, ranked: list[Candidate], model: AnswerModel, first: list[Candidate], limit: int
    ) -> list[_Claim]:
        """The sentences holding the lead first, then others likely to answer; a sentence repeating a chosen one
        becomes a supporting citation if it comes from another source."""
        claims: list[_Claim] = []
        sources: set[str] = set()
        order = list(dict.fromkeys([*first, *ranked]))
        floor = max(model.claim_floor, model.claim_share * ranked[0].probability) if ranked else model.claim_floor
        for cand in order:
            if cand not in first and cand.probability < floor:
                break
            twin = next((cl for cl in claims if float(cl.lead.vector @ cand.vector) >= DUPLICATE
                         or cand.text in cl.lead.text or cl.lead.text in cand.text), None)
            if twin is not None:
                if cand.passage.source_id not in sources and len(twin.support) < MAX_SUPPORT:
                    twin.support.append(cand)
                    sources.add(cand.passage.source_id)
            elif len(claims) < limit:
                claims.append(_Claim(cand))
                sources.add(cand.passage.source_id)
        return claims

    def _compose(self, claims: list[_Claim], best: Span | None, rival: Span | None, question: Question) -> Answer:
        citations: list[Citation] = []
        lines: list[str] = []
        for claim in claims:
            markers = []
            for cand in [claim.lead, *claim.support]:
                citations.append(cite(cand.text, cand.passage, len(citations) + 1))
                markers.append(f"[{len(citations)}]")
            outlets = [source_name(c.passage.source_id, c.passage.outlet) for c in [claim.lead, *claim.support]]
            label = claim_label(outlets, citations[-1 - len(claim.support)].speaker)
            lines.append(f"- {label}: {claim.lead.text} {''.join(markers)}")

        def marks(span: Span) -> str:
            own = {c.marker for c in citations if c.quote == span.cand.text}
            return "".join(f"[{m}]" for m in sorted(own | {c.marker for c in citations if holds(c.quote, span.text)}))

        if question.answer_type == "yesno":
            # No span says yes or no (the best span's sentence still comes first among the claims): the lead is
            # the no the quotes agree on, if any.
            lead = self.sides.agreed(question, citations)
        elif best is None:
            lead = None
        elif rival is not None:
            lead = f"Sources differ: {best.text} {marks(best)}; {rival.text} {marks(rival)}."
        else:
            lead = f"{best.text} {marks(best)}"
        text = "\n".join([lead, *lines] if lead else lines)
        return Answer(text=text, citations=citations, found=True, lead=lead)
