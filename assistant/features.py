"""Candidate answer sentences and their features: the signals the learned answer model weighs.

A candidate is a sentence of a retrieved passage, or two consecutive sentences of one paragraph (news often names
a thing in one sentence and answers in the next). Each gets one row of `SENTENCE_FEATURES`; the weights live in
the model file written by `training/train.py`, not here.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from .conversation import names
from .embeddings import Embedder
from .models import Passage
from .questions import Question, counted_word
from .sentences import split_sentences
from .terms import canonical, is_agent, term_set, words
from .text import instruction

Vector = np.ndarray
Embed = Callable[[Sequence[str]], dict[str, Vector]]  # unit vectors of texts, by text (VectorCache.get)

SENTENCE_FEATURES: tuple[str, ...] = (
    "dense",  # cosine of question and candidate (MiniLM)
    "dense_clause",  # best cosine of the question and one clause of a long candidate
    "dense_gap",  # dense minus the pool's best: how far from the closest candidate
    "lexical",  # share of the question's IDF-weighted terms the candidate contains
    "lexical_gap",  # lexical minus the pool's best
    "context_lexical",  # the same share over the candidate and the sentences either side of it
    "title_lexical",  # share of the question's IDF-weighted terms in the article's headline
    "lede",  # first sentence of an article
    "passage_rank",  # 1 / (1 + rank of its passage in retrieval)
    "pair",  # two consecutive sentences rather than one
    "pair_subject",  # a pair for a question with a named subject (who-did-what must hold in one sentence)
    "short",  # fewer than 8 words: matches on the name it repeats, not on what it says
    "log_words",
    "novelty",  # share of the candidate's terms the question does not contain
    "quote",  # contains a quotation
    "subject_missing",  # the question names a subject the candidate does not mention
    "subject_passive",  # the subject is mentioned but not as the one acting ("Iran was blamed")
    "act_missing",  # "who succeeded X?" and no mention of succeeding
    "entity_missing",  # a who/which question, and no name beyond those the question gives
    "name_missing",  # "what is his name?" and no full name beyond the question's
    "number_missing",  # a how-many question and no number (of the counted thing)
    "time_missing",  # a when question and no time expression
    "place_missing",  # a where question and no capitalised name beyond the question's
    "days_beyond",  # for a dated question: log-days between article and question, beyond the pool's closest
    "published_after",  # the article appeared more than a few days after the question was asked
    # The same for every candidate of a question: how well the evidence as a whole meets it, so that the best of a
    # bad lot ("What is the capital of France?" over articles on Iraq) is not mistaken for an answer.
    "pool_absent",  # share of the question's IDF-weighted terms that no candidate contains
    "pool_max_dense",  # the best dense similarity in the pool
    "pool_max_lexical",  # the best lexical overlap in the pool
)

_NUMBER = re.compile(
    r"\b(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    r"thousands?|millions?|billions?|several|multiple|single|both|a (?:third|second))\b",
    re.IGNORECASE,
)
TIME_WORDS = re.compile(
    r"\b(\d{4}|monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|"
    r"july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|morning|"
    r"night|overnight|early|late|today|yesterday|week|month|year|hours?|after|before)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|\s+(?:—|–|--)\s+|\s+(?=which |while |though |although |but )")
_CAPITAL = re.compile(r"(?<![.!?\"] )(?<!^)\b[A-Z][\w.'-]*[a-zA-Z]")
_QUOTE = re.compile(r"\"[^\"]{3,}\"")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
LONG_SENTENCE = 16  # words: a sentence this long is also compared clause by clause
MIN_CLAUSE = 5  # words: shorter pieces are merged into the next clause
MIN_WORDS = 4  # words: shorter "sentences" are captions and fragments
SHORT_WORDS = 8  # words: below this a sentence is "short" (a feature, not a rule)
DAYS_SCALE = math.log1p(3650)  # ten years: days_beyond reaches 1 there
LATE_DAYS = 3  # an article this many days after the question can still be its evidence (RealTime QA's own rule)


def clauses(sentence: str) -> list[str]:
    """Clauses of a long sentence (split at commas, dashes, and 'which/while/but'), short ones merged forward."""
    if len(sentence.split()) < LONG_SENTENCE:
        return []
    out: list[str] = []
    for part in _CLAUSE_BREAK.split(sentence):
        if out and len(out[-1].split()) < MIN_CLAUSE:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return [c for c in out if len(c.split()) >= MIN_CLAUSE] if len(out) > 1 else []


@dataclass(eq=False)  # identity: the same sentence text may come from two articles
class Candidate:
    """One sentence (or pair) of a passage that may answer the question."""

    text: str
    passage: Passage
    rank: int  # rank of its passage in retrieval (0 = best)
    order: int  # position among candidates, for stable ties
    answer: str  # the sentence that must carry the answer: the second one of a pair
    first: bool = False  # the first sentence of an article
    context: str = ""  # the candidate with the sentences either side of it in its passage
    vector: Vector = field(default_factory=lambda: np.zeros(0))
    clause_vectors: list[Vector] = field(default_factory=list)
    probability: float = 0.0

    @property
    def pair(self) -> bool:
        """Two consecutive sentences rather than one."""
        return self.answer != self.text


def candidates(passages: Sequence[Passage]) -> list[Candidate]:
    """Every distinct sentence and within-paragraph sentence pair of the passages, in retrieval order."""
    seen: set[tuple[str, str]] = set()
    out: list[Candidate] = []
    for rank, passage in enumerate(passages):
        # A sentence that asks (an FAQ heading, a rhetorical question) answers nothing.
        sents = [s for s in split_sentences(passage.text)
                 if len(s.text.split()) >= MIN_WORDS and not s.text.rstrip("\"' ").endswith("?")]
        for i, sent in enumerate(sents):
            spans = [(sent.start, sent.end, sent.start)]
            # Only within a paragraph: boilerplate removed between paragraphs would make the quote not verbatim.
            if i + 1 < len(sents) and "\n" not in passage.text[sent.end : sents[i + 1].start]:
                spans.append((sent.start, sents[i + 1].end, sents[i + 1].start))
            around = passage.text[sents[max(0, i - 1)].start : sents[min(len(sents) - 1, i + 2)].end]
            for start, end, answer_start in spans:
                text = passage.text[start:end]
                if (passage.source_id, text) in seen or instruction(text):
                    continue
                seen.add((passage.source_id, text))
                out.append(Candidate(text=text, passage=passage, rank=rank, order=len(out), context=around,
                                     answer=passage.text[answer_start:end], first=passage.start == 0 and i == 0))
    return out


class VectorCache:
    """Embeddings of sentences and clauses, least recently used dropped first; never what a question needs now."""

    def __init__(self, embedder: Embedder, capacity: int = 50_000) -> None:
        self.embedder, self.capacity = embedder, capacity
        self._vectors: OrderedDict[str, Vector] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, texts: Sequence[str]) -> dict[str, Vector]:
        """Vectors of `texts` (embedding the ones not cached), then trims the cache to its capacity."""
        wanted = list(dict.fromkeys(texts))
        with self._lock:
            found = {t: self._vectors[t] for t in wanted if t in self._vectors}
            for t in found:
                self._vectors.move_to_end(t)
        missing = [t for t in wanted if t not in found]
        if missing:
            vectors = self.embedder.embed(missing)
            found.update((t, np.asarray(v, dtype=np.float32)) for t, v in zip(missing, vectors, strict=True))
        with self._lock:
            for t in missing:
                self._vectors[t] = found[t]
            while len(self._vectors) > self.capacity:
                self._vectors.popitem(last=False)
        return found


def embed(cands: Sequence[Candidate], cache: VectorCache) -> None:
    """Give every candidate its vector and its clauses' vectors."""
    parts = {c.text: clauses(c.text) for c in cands}
    vectors = cache.get([*parts, *(cl for cls in parts.values() for cl in cls)])
    for cand in cands:
        cand.vector = vectors[cand.text]
        cand.clause_vectors = [vectors[cl] for cl in parts[cand.text]]


def names_beyond(sentence: str, known: AbstractSet[str]) -> bool:
    """True when the sentence names (a capitalised word not at its start) something not in `known`."""
    return any(not term_set(m.group()) & known for m in _CAPITAL.finditer(sentence))


COUNT_REACH = 4  # words after a number in which the counted noun may stand ("2,500 U.S. combat troops")
# MiniLM cosine of two single words from which they name the same kind of thing ("soldiers"/"troops" 0.89,
# "fatalities"/"deaths" 0.85). Calibrated on 20 synonym and 25 related-but-different word pairs written for it
# (tests/test_counting.py: drones/missiles 0.65, doctors/nurses 0.71, votes/seats 0.63): the lowest cut with no
# different pair above it. Single-word vectors do not separate near synonyms from neighbours below that.
KIN_SIMILARITY = 0.75


def counted_after(sentence: str) -> list[str]:
    """The words that follow a number in `sentence` (where a count's noun stands)."""
    tokens = words(sentence)
    return [w for i, tok in enumerate(tokens) if _NUMBER.fullmatch(tok) for w in tokens[i + 1 : i + 1 + COUNT_REACH]]


def kin(counted: str | None, sentences: Sequence[str], embed: Embed) -> frozenset[str]:
    """Canonical forms of the words after numbers in `sentences` that name what `counted` names ("troops" for
    "soldiers"), by MiniLM similarity of the single words."""
    if not counted:
        return frozenset()
    own = canonical(counted)
    found = sorted({w for s in sentences for w in counted_after(s) if w.isalpha() and canonical(w) != own})
    if not found:
        return frozenset()
    vectors = embed([counted.lower(), *found])
    target = vectors[counted.lower()]
    return frozenset(canonical(w) for w in found if float(vectors[w] @ target) >= KIN_SIMILARITY)


def counts(sentence: str, noun: str | None, same: AbstractSet[str] = frozenset()) -> bool:
    """True when the sentence gives a number (of `noun`, or of a word in `same`, when the question says what is
    counted)."""
    if noun is None:
        return bool(_NUMBER.search(sentence))
    return any(canonical(w) == noun or canonical(w) in same for w in counted_after(sentence))


def parse_date(text: str | None) -> date | None:
    """A YYYY-MM-DD date at the start of `text`, if any."""
    m = _DATE.match(text or "")
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def featurize(
    question: Question, q_vec: Vector, cands: Sequence[Candidate], words_of: Embed | None = None
) -> np.ndarray:
    """One row of SENTENCE_FEATURES per candidate (vectors must be set by `embed`; `words_of` embeds the single
    words after numbers, to read "2,500 troops" as a count of soldiers)."""
    n = len(cands)
    X = np.zeros((n, len(SENTENCE_FEATURES)), dtype=np.float32)
    if n == 0:
        return X
    col = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    sets = [term_set(c.text) for c in cands]
    # IDF over the candidate pool: a term every sentence shares says little about which one answers.
    idf = {t: math.log(1 + n / (1 + sum(t in s for s in sets))) for t in question.terms}
    total = sum(idf.values()) or 1.0
    known = question.known
    same = kin(counted_word(question.text), [c.answer for c in cands], words_of) if words_of else frozenset()
    # Headlines repeat across a passage's candidates, and a sentence shares its context with the pair it starts.
    memo: dict[str, set[str]] = {}

    def terms_of(text: str) -> set[str]:
        if text not in memo:
            memo[text] = term_set(text)
        return memo[text]

    dense = np.stack([c.vector for c in cands]) @ q_vec
    atype = question.answer_type
    for i, (cand, terms) in enumerate(zip(cands, sets, strict=True)):
        row = X[i]
        clause_sims = [float(v @ q_vec) for v in cand.clause_vectors]
        row[col["dense"]] = dense[i]
        row[col["dense_clause"]] = max([float(dense[i]), *clause_sims])
        row[col["lexical"]] = sum(idf[t] for t in question.terms if t in terms) / total
        around = terms_of(cand.context)
        row[col["context_lexical"]] = sum(idf[t] for t in question.terms if t in around) / total
        title = terms_of(cand.passage.title)
        row[col["title_lexical"]] = sum(idf[t] for t in question.terms if t in title) / total
        row[col["lede"]] = cand.first
        row[col["passage_rank"]] = 1.0 / (1 + cand.rank)
        row[col["pair"]] = cand.pair
        row[col["pair_subject"]] = cand.pair and bool(question.subject)
        n_words = len(cand.text.split())
        row[col["short"]] = n_words < SHORT_WORDS
        row[col["log_words"]] = math.log(n_words)
        row[col["novelty"]] = len(terms - known) / max(1, len(terms))
        row[col["quote"]] = bool(_QUOTE.search(cand.text))
        if question.subject:
            present = bool(question.subject & terms)
            row[col["subject_missing"]] = not present
            row[col["subject_passive"]] = present and question.active and not is_agent(cand.text, set(question.subject))
        row[col["act_missing"]] = bool(question.act) and question.act not in terms
        row[col["entity_missing"]] = atype in ("person", "entity") and not names_beyond(cand.answer, known)
        row[col["name_missing"]] = question.wants_name and not any(
            not term_set(nm) & known for nm in names(cand.answer))
        row[col["number_missing"]] = atype == "number" and not counts(cand.answer, question.counted, same)
        row[col["time_missing"]] = atype == "time" and not TIME_WORDS.search(cand.answer)
        row[col["place_missing"]] = atype == "place" and not names_beyond(cand.answer, known)
        published = parse_date(cand.passage.date)
        if question.asked_on and published:
            days = (published - question.asked_on).days
            row[col["days_beyond"]] = min(1.0, math.log1p(abs(days)) / DAYS_SCALE)
            row[col["published_after"]] = days > LATE_DAYS
    # Relative to the pool's closest article: whether a question carries a date must not move the base rate
    # (RealTime QA's dated questions are easier; a reader's questions carry no date).
    X[:, col["days_beyond"]] -= X[:, col["days_beyond"]].min()
    X[:, col["dense_gap"]] = X[:, col["dense"]] - X[:, col["dense"]].max()
    X[:, col["lexical_gap"]] = X[:, col["lexical"]] - X[:, col["lexical"]].max()
    everywhere = set().union(*sets)
    X[:, col["pool_absent"]] = sum(idf[t] for t in question.terms if t not in everywhere) / total
    X[:, col["pool_max_dense"]] = X[:, col["dense_clause"]].max()
    X[:, col["pool_max_lexical"]] = X[:, col["lexical"]].max()
    return X
