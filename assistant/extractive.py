"""The default answerer: picks the source sentences that answer the question and cites each one. No LLM.

Its weights are set by hand and were tuned on evals/gold.yaml, so its numbers there are optimistic (see the
README: the blind variants score far lower). The learned answerer (`assistant/learned.py`) is to replace it once
it does better on questions it was not tuned on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .attribution import cite, claim_label, closest, source_name
from .conversation import Query
from .disagreement import Sides, differ_line
from .embeddings import Embedder
from .features import MIN_WORDS, TIME_WORDS, VectorCache, counts, kin, names_beyond
from .features import clauses as _clauses
from .models import Answer, Citation, Disagreement, Passage
from .questions import NAME_Q, Question, counted_noun, counted_word
from .sentences import split_sentences
from .spans import holds
from .terms import canonical, content_terms, is_agent, question_subject, term_set
from .text import instruction

if TYPE_CHECKING:
    from .learned import LearnedGenerator

NOT_FOUND = "The articles don't say."

# The hand-set weights of this answerer, each with why it exists. They were tuned by hand on evals/gold.yaml (the
# learned answerer's counterparts are fitted on RealTime QA instead); each misfit factor multiplies the score of a
# sentence that cannot answer this kind of question, so it falls below the sentences that can.
DENSE_WEIGHT = 0.6  # meaning (MiniLM cosine) counts a little more than shared words...
LEXICAL_WEIGHT = 0.4  # ...because readers rarely use the article's words; words still break ties between topics
CLAUSE_WEIGHT = 0.9  # one clause of a long sentence matching is weaker evidence than the whole sentence matching
TITLE_BONUS = 0.1  # an article whose headline shares the question's terms is about it
LEDE_BONUS = 0.05  # a news lede states the main facts: a slight edge among equals
PAIR_SUBJECT = 0.5  # who-did-what must hold within one sentence, not be stitched across two
MISFIT_SUBJECT = 0.5  # someone else's claim does not answer a question about the subject's
MISFIT_SHORT = 0.85  # a short sentence matches on the name it repeats, not on what it says
MISFIT_ACT = 0.7  # "who succeeded X?": a sentence without the act answers something else
MISFIT_ENTITY = 0.8  # a who-question needs someone named beyond those the question names
MISFIT_NAME = 0.7  # "what is his name?" needs a full name
MISFIT_NUMBER = 0.6  # a how-many question needs a number (of the thing counted)
MISFIT_TIME = 0.7  # a when-question needs a time expression
SHORT_WORDS = 8  # below this many words a sentence is "short"

# A refusal points to the passages that come closest, labelled as such: most reworded questions this answerer
# refuses have the answering sentence among its best three (see the README). Only a passage closer than an
# off-topic one is shown: NEAR_FLOOR is the 95th percentile of the best score when a RealTime QA question is asked
# over another question's passages (0.326; `make train` reports it as extractive_near_floor).
NEAR_FLOOR = 0.33

Vector = np.ndarray

_WHO_VERB = re.compile(
    r"\s*who\s+(?!(?:was|is|were|are|did|does|do|has|have|had|will|would|could|can|should|else)\b)([a-z]+)\b",
    re.IGNORECASE,
)


_YES_NO = re.compile(r"\s*(was|were|is|are|did|does|do|has|have|had|can|could|will|would)\b", re.IGNORECASE)


@dataclass
class _Candidate:
    text: str
    passage: Passage
    order: int  # position among candidates, for stable ties
    score: float = 0.0
    vector: Vector = field(default_factory=lambda: np.zeros(0))
    clauses: list[Vector] = field(default_factory=list)
    answer: str = ""  # the sentence that must carry the answer: the second one of a pair

    @property
    def pair(self) -> bool:
        """Two consecutive sentences rather than one."""
        return self.answer != self.text


@dataclass
class _Claim:
    lead: _Candidate
    support: list[_Candidate] = field(default_factory=list)


_FULL_NAME = re.compile(r"\b[A-Z][\w'-]+(?:\s+(?:al-|bin\s+)?[A-Z][\w'-]+)+")
_MARKERS = re.compile(r"\[[^\]]*\]")


def names(text: str, limit: int = 4) -> list[str]:
    """Multi-word capitalised names in `text`, first few, no repeats (this answerer's own, as it was tuned)."""
    return list(dict.fromkeys(m.group() for m in _FULL_NAME.finditer(_MARKERS.sub(" ", text))))[:limit]


def _dot(a: Vector, b: Vector) -> float:
    return float(a @ b)


@dataclass(frozen=True)
class _Asks:
    """What a question asks for, read from its wording: each check is a reason a sentence does not answer."""

    terms: list[str]
    subject: set[str]
    active: bool  # "Who did Iran blame?": the subject must be the one acting
    entity: bool  # who/whom: someone must be named besides those the question names
    act: str | None  # "Who succeeded X?": the act must be mentioned
    number: bool
    counted: str | None  # "how many drones": the number must count drones
    name: bool  # "what is his name?": a full name must be given
    time: bool

    @classmethod
    def of(cls, question: str) -> _Asks:
        act = _WHO_VERB.match(question)
        return cls(
            terms=content_terms(question),
            subject=question_subject(question),
            active=bool(re.match(r"\s*\w+\s+(did|does|do)\b", question, re.IGNORECASE)),
            entity=bool(re.match(r"\s*(who|whom)\b", question, re.IGNORECASE)),
            act=canonical(act.group(1)) if act else None,
            number=bool(re.search(r"\bhow (many|much|old|long|big|large)\b", question, re.IGNORECASE)),
            counted=counted_noun(question),
            name=bool(NAME_Q.search(question)),
            time=bool(re.match(r"\s*(when|what time|what day)\b", question, re.IGNORECASE)),
        )

    @cached_property
    def known(self) -> set[str]:
        """Terms the question itself names: an answer must bring something beyond them."""
        return set(self.terms) | self.subject

    def fit(self, cand: _Candidate, terms: set[str], same: AbstractSet[str] = frozenset()) -> float:
        """A factor in (0, 1]: 1 when the sentence can answer this kind of question, less for each misfit (`same`:
        words that count what the question counts, "troops" for "how many soldiers")."""
        known = self.known
        factor = 1.0
        if self.subject and not (self.subject & terms and (not self.active or is_agent(cand.text, self.subject))):
            factor *= MISFIT_SUBJECT
        if len(cand.text.split()) < SHORT_WORDS:
            factor *= MISFIT_SHORT
        if self.act and self.act not in terms:
            factor *= MISFIT_ACT
        if self.entity and not names_beyond(cand.answer, known):
            factor *= MISFIT_ENTITY
        if self.name and not any(not term_set(n) & known for n in names(cand.answer)):
            factor *= MISFIT_NAME
        if self.number and not counts(cand.answer, self.counted, same):
            factor *= MISFIT_NUMBER
        if self.time and not TIME_WORDS.search(cand.answer):
            factor *= MISFIT_TIME
        return factor


def lead_model(embedder: Embedder, cache: VectorCache) -> LearnedGenerator:
    """The learned span model, to pick the direct answer among the sentences this answerer chose."""
    from .learned import LearnedGenerator

    return LearnedGenerator(embedder, cache=cache)


class ExtractiveGenerator:
    """Scores each sentence of the retrieved passages against the question with hand-set weights."""

    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        *,
        max_sentences: int = 3,  # claims shown: an answer, not a quote pile
        min_score: float = 0.45,  # refuse below (RealTime QA: 0.457 refuses 2% of answerable questions)
        relative: float = 0.85,  # further sentences of a source already shown must be nearly as good as the best
        source_floor: float = 0.85,  # another source's best sentence joins at this share of the best score
        duplicate: float = 0.8,  # cosine above which two sentences say the same thing (a supporting citation)
        pair_weight: float = 0.9,  # a sentence pair quotes more than needed: slightly below its single sentence
        polar_floor: float = 0.5,  # yes/no and per-source views: each outlet's answer shown down to half the best
        leads: bool = True,
    ) -> None:
        self.embedder = embedder
        self.max_sentences, self.min_score = max_sentences, min_score
        self.relative, self.source_floor, self.duplicate = relative, source_floor, duplicate
        self.pair_weight, self.polar_floor = pair_weight, polar_floor
        self._cache = VectorCache(embedder)
        self.leads = lead_model(embedder, self._cache) if leads else None
        self.sides = Sides(self._cache.get)

    def answer(self, q: Query, passages: Sequence[Passage]) -> Answer:
        """An answer built from verbatim sentences, or a 'not found' answer when the evidence is weak."""
        query = self.wording(q)
        ranked = self.rank(query, passages)
        if not ranked or ranked[0].score < self.min_score:
            return Answer(text=NOT_FOUND, citations=[], found=False, nearest=self._nearest(ranked))
        # A yes/no question about someone is where outlets disagree most ("Was al-Kadhimi hurt?"): each outlet's
        # best sentence about the subject is shown if it is a fair answer, not only the strongest outlet's.
        polar = bool(_YES_NO.match(query)) and bool(question_subject(query))
        # "Do the outlets disagree about X?" asks for exactly that: each source's fair answer, side by side.
        per_source = polar or q.by_source
        question = Question.of(q.form)
        if q.by_source and not q.outlets:
            # The per-source view: each article's own best fair answer on its own line, repeats and all.
            each = self._compose(self._each_source(ranked, question))
            return self._differ(each, self.sides.disagreements(question, each.citations)) or each
        chosen = self._select(ranked, self.polar_floor if per_source else self.source_floor)
        answer = self._compose(chosen)
        # Sources that disagree on the point are shown side by side, whichever side scored best. A question asking
        # for one party's account gets the accounts, each under its speaker, without a "Sources differ" line.
        fair = self._compose(self._sided(ranked, question, chosen))
        conflicts = self.sides.conflicts(question, fair.citations)
        if conflicts and question.one_account:
            return fair
        return self._differ(fair, conflicts) or self._with_lead(answer, q, question, passages)

    @staticmethod
    def wording(q: Query) -> str:
        """The question as this answerer scores sentences against it (`rank`)."""
        # A follow-up is judged against what is asked now plus who it is about ("Qais al-Khazali And what did he
        # say about the attack?"): the shape these hand-set weights were tuned on.
        return " ".join([*q.referents, q.asked]) if q.referents else q.text

    @staticmethod
    def _differ(answer: Answer, disagreements: list[Disagreement]) -> Answer | None:
        """The answer led by where its sources differ, or None when they do not."""
        if not disagreements:
            return None
        lead = differ_line(disagreements[0])
        body = [f"- {line}" if not line.startswith("- ") else line for line in answer.text.split("\n")]
        return answer.model_copy(update={"text": "\n".join([lead, *body]), "lead": lead,
                                         "disagreements": disagreements})

    def _with_lead(self, answer: Answer, q: Query, question: Question, passages: Sequence[Passage]) -> Answer:
        """The answer with a direct short answer first, carrying the markers of every citation whose quote holds
        it: for "how many X" the count of X, and for a yes or no the answer, that its quotes agree on; otherwise
        the learned span model's pick among the quoted sentences, when it is likely enough."""
        lead = self.sides.agreed(question, answer.citations)
        if lead is None and self.leads is not None:
            span = self.leads.lead_for(q, passages, [c.quote for c in answer.citations])
            markers = "".join(f"[{c.marker}]" for c in answer.citations if span and holds(c.quote, span.text))
            if span is not None and markers and span.probability >= self.leads.model.lead_floor:  # `make train`
                lead = f"{span.text} {markers}"
        if lead is None:
            return answer
        lines = answer.text.split("\n")
        body = lines if lines[0].startswith("- ") else [f"- {line}" for line in lines]
        return answer.model_copy(update={"text": "\n".join([lead, *body]), "lead": lead})

    def rank(self, question: str, passages: Sequence[Passage]) -> list[_Candidate]:
        """Every distinct sentence and sentence pair of the passages, scored against the question, best first."""
        seen: set[tuple[str, str]] = set()
        cands: list[_Candidate] = []
        for passage in passages:
            # A sentence that asks (an FAQ heading, a rhetorical question) answers nothing.
            sents = [s for s in split_sentences(passage.text)
                     if len(s.text.split()) >= MIN_WORDS and not s.text.rstrip("\"' ").endswith("?")]
            for i, sent in enumerate(sents):
                spans = [(sent.start, sent.end, sent.start)]
                # News often names a thing in one sentence and answers in the next. Only within a paragraph:
                # boilerplate removed between paragraphs would make a two-paragraph quote not verbatim.
                if i + 1 < len(sents) and "\n" not in passage.text[sent.end : sents[i + 1].start]:
                    spans.append((sent.start, sents[i + 1].end, sents[i + 1].start))
                for start, end, answer_start in spans:
                    text = passage.text[start:end]
                    if (passage.source_id, text) not in seen and not instruction(text):
                        seen.add((passage.source_id, text))
                        answer = passage.text[answer_start:end]
                        cands.append(_Candidate(text, passage, len(cands), answer=answer))
        if not cands:
            return []
        self._embed(cands)
        first_of: dict[str, int] = {}
        for cand in cands:
            first_of.setdefault(cand.passage.chunk_id, cand.order)
        q_vec = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        asks = _Asks.of(question)
        sets = [term_set(c.text) for c in cands]
        # IDF over the candidate pool: a term every sentence shares says little about which one answers.
        idf = {t: math.log(1 + len(cands) / (1 + sum(t in s for s in sets))) for t in asks.terms}
        total = sum(idf.values()) or 1.0
        titles = {c.passage.title: term_set(c.passage.title) for c in cands}
        same = kin(counted_word(question), [c.answer for c in cands], self._cache.get) if asks.counted else frozenset()
        for cand, terms in zip(cands, sets, strict=True):
            lexical = sum(idf[t] for t in asks.terms if t in terms) / total
            # A long sentence dilutes its embedding; the clause that answers is compared on its own too.
            dense = max([_dot(q_vec, cand.vector)] + [CLAUSE_WEIGHT * _dot(q_vec, v) for v in cand.clauses])
            score = (DENSE_WEIGHT * max(0.0, dense) + LEXICAL_WEIGHT * lexical) * asks.fit(cand, terms, same)
            # News context: an article whose headline asks the same thing, and its lede, carry more weight.
            score += TITLE_BONUS * sum(idf[t] for t in asks.terms if t in titles[cand.passage.title]) / total
            if cand.passage.start == 0 and cand.order == first_of[cand.passage.chunk_id]:
                score += LEDE_BONUS
            if cand.pair:
                score *= self.pair_weight * (PAIR_SUBJECT if asks.subject else 1.0)
            cand.score = score
        return sorted(cands, key=lambda c: (-c.score, c.order))

    def _each_source(self, ranked: list[_Candidate], question: Question) -> list[_Claim]:
        """Each source's answer, one claim each: its best fair sentence (polar_floor of the best) that takes a
        side on the point (a count, a culprit, a yes or a no), else its best fair sentence."""
        best: dict[str, _Candidate] = {}
        for cand in ranked:
            if cand.score < max(self.min_score, self.polar_floor * ranked[0].score):
                break
            best.setdefault(cand.passage.source_id, cand)
        # A sentence stating a side (a count, a culprit, a yes or a no) is evidence on the point even below the
        # floor of a lone answer, as in `_sided`: it stands for its source.
        sided = [c for c in ranked if c.score >= self.polar_floor * ranked[0].score]
        context = [c.text for c in sided]
        for cand in reversed(sided):
            if self.sides.of(question, cand.text, context):
                best[cand.passage.source_id] = cand
        return [_Claim(c) for c in sorted(best.values(), key=lambda c: (-c.score, c.order))]

    def _sided(self, ranked: list[_Candidate], question: Question, chosen: list[_Claim]) -> list[_Claim]:
        """Each source's best sentence that takes a side on the point and is a fair answer (polar_floor of the
        best); a sentence repeating a chosen one becomes its supporting citation.

        A count, a named culprit, a yes or a no is a side only where the sentence states one. For a yes/no
        question the chosen answer's sentences are kept (they answer it); a source whose chosen sentence takes no
        side may still join with one that does.
        """
        floor = self.polar_floor * ranked[0].score
        polar = question.answer_type == "yesno"
        fair = [c for c in ranked if c.score >= floor]
        context = [c.text for c in fair]
        claims: list[_Claim] = list(chosen) if polar else []
        sources = {c.passage.source_id for cl in claims for c in [cl.lead, *cl.support]
                   if self.sides.of(question, c.text, context)}
        for cand in fair:
            if cand.passage.source_id in sources:
                continue
            sides = self.sides.of(question, cand.text, context)
            if not sides:
                continue
            sources.add(cand.passage.source_id)
            twin = next((cl for cl in claims if _dot(cl.lead.vector, cand.vector) >= self.duplicate), None)
            if twin is not None:
                twin.support.append(cand)
            else:
                claims.append(_Claim(cand))
        return claims

    def _embed(self, cands: list[_Candidate]) -> None:
        texts = {c.text: None for c in cands}
        for cand in cands:
            texts.update(dict.fromkeys(_clauses(cand.text)))
        vectors = self._cache.get(list(texts))
        for cand in cands:
            cand.vector = vectors[cand.text]
            cand.clauses = [vectors[t] for t in _clauses(cand.text)]

    def _select(self, ranked: list[_Candidate], source_floor: float) -> list[_Claim]:
        """Each source's best sentence (sources disagree: show who says what), then further sentences nearly as
        good as the best; a sentence repeating a chosen one becomes a supporting citation if from another source."""
        floor = max(self.min_score, self.relative * ranked[0].score)
        per_source = max(self.min_score, source_floor * ranked[0].score)
        claims: list[_Claim] = []
        sources: set[str] = set()
        for cand in ranked:
            if cand.score < per_source:
                break
            new_source = cand.passage.source_id not in sources
            if not new_source and cand.score < floor:
                continue
            twin = next((cl for cl in claims if _dot(cl.lead.vector, cand.vector) >= self.duplicate
                         or cand.text in cl.lead.text or cl.lead.text in cand.text), None)
            if twin is not None:
                if new_source and len(twin.support) < 2:
                    twin.support.append(cand)
                    sources.add(cand.passage.source_id)
            elif len(claims) < self.max_sentences:
                claims.append(_Claim(cand))
                sources.add(cand.passage.source_id)
        return claims

    @staticmethod
    def _nearest(ranked: list[_Candidate]) -> list[Citation]:
        """With a refusal: the best candidate of each of the closest sources, when closer than off-topic ones."""
        return closest((c.text, c.passage) for c in ranked if c.score >= NEAR_FLOOR)

    def _compose(self, claims: list[_Claim]) -> Answer:
        citations: list[Citation] = []
        lines: list[str] = []
        for claim in claims:
            markers = []
            for cand in [claim.lead, *claim.support]:
                citations.append(cite(cand.text, cand.passage, len(citations) + 1))
                markers.append(f"[{len(citations)}]")
            outlets = [source_name(c.passage.source_id, c.passage.outlet) for c in [claim.lead, *claim.support]]
            label = claim_label(outlets, citations[-1 - len(claim.support)].speaker)
            lines.append(f"{label}: {claim.lead.text} {''.join(markers)}")
        text = lines[0] if len(lines) == 1 else "\n".join(f"- {line}" for line in lines)
        return Answer(text=text, citations=citations, found=True)
