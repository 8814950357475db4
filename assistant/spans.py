"""Short answer spans inside candidate sentences (names, numbers, dates, places, quotes, clauses), with features.

No parser ships as a trustworthy package here (spaCy's English models are published on GitHub, not PyPI; the
PyPI copies are third-party re-uploads), so spans come from patterns over capitalisation, numbers and dates, and
a learned model (`SPAN_FEATURES`, trained by `training/train.py`) picks which one answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .features import Candidate, Embed, clauses
from .lexicon import LexiconMissing, is_kind, warn_lexicon_missing
from .questions import ANSWER_TYPES, Question
from .terms import stopwords, term_set, words

SPAN_KINDS = ("name", "place", "number", "time", "quote", "phrase", "clause")
SPAN_FEATURES: tuple[str, ...] = (
    "sentence_p",  # probability that its sentence answers the question
    "sentence_best",  # its sentence is the best-ranked one
    "support",  # summed probability of the candidate sentences that contain the span (AskMSR: agreement)
    "sources",  # log of 1 + the number of articles whose candidates contain it
    "in_question",  # share of the span's terms the question already contains
    "near_question",  # 1 / (1 + words between the span and the nearest question term in the sentence)
    "log_words",
    "position",  # where in the sentence it starts (0 = first word, 1 = last)
    "counted_follows",  # a number followed by the thing the question counts
    "type_fit",  # cosine of the span with what kind of thing the question asks for ("Which comedian": comedian)
    "focus_kind",  # WordNet files the span as a kind of that thing ("Which vegetable": cucumbers)
    *(f"{kind}_x_{atype}" for kind in SPAN_KINDS for atype in ANSWER_TYPES),
)

_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)")
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_TIME_SPAN = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:,\s*\d{{4}})?|\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?|{_MONTH}\s+\d{{4}}|"
    rf"{_WEEKDAY}|(?:19|20)\d\d)\b"
)
_CALENDAR = re.compile(rf"{_MONTH}|{_WEEKDAY}")
_POSSESSIVE = re.compile(r"['\u2019]s$")  # "Perry's" -> Perry
_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                 "hundred|dozens?|hundreds|thousands|millions|several")
_NUMBER_SPAN = re.compile(
    rf"(?:(?:at least|about|nearly|almost|more than|over|some|around|roughly|up to)\s+)?"
    rf"(?:\$\s?\d(?:[\d,.]*\d)?|\d(?:[\d,.]*\d)?(?:-\d(?:[\d,.]*\d)?)?|\b(?:{_NUMBER_WORDS})\b)"
    r"(?:\s?(?:%|percent\b|million\b|billion\b|trillion\b|thousand\b|hundred\b))?",
    re.IGNORECASE,
)
_QUOTE_SPAN = re.compile(r"\"([^\"]{3,120})\"")
_TOKEN = re.compile(r"[A-Za-z0-9$%][\w.'&%$-]*")
_CONNECTORS = {"of", "de", "del", "da", "van", "von", "bin", "and", "&", "the", "for", "al", "el"}
_PLACE_PREP = {"in", "at", "from", "near", "to", "into", "across", "outside", "inside"}
MAX_SPAN_WORDS = 12  # a lead is short: longer spans are not a direct answer
MAX_NAME_WORDS = 6
MAX_PHRASE_WORDS = 4  # a noun phrase answer rarely runs longer ("monarch butterfly", "deli meat")


@dataclass(eq=False)  # identity: the same sentence text may come from two articles
class Span:
    """A short piece of a candidate sentence that may be the direct answer."""

    text: str
    kind: str
    cand: Candidate
    start: int  # word position in the sentence
    probability: float = 0.0


def _capitalised(token: str) -> bool:
    """A word of a name: capitalised, or an Arabic article before one ("al-Kadhimi")."""
    return token[:1].isupper() or bool(re.match(r"(al|el|ad|ash|as|an|bin|ibn)-[A-Z]", token))


def _joined(sentence: str, left: tuple[str, int], right: tuple[str, int]) -> bool:
    """Two tokens separated by spaces only: a comma or bracket between them ends a name."""
    return not sentence[left[1] + len(left[0]) : right[1]].strip()


def _name_text(text: str) -> str:
    """A name as shown: no trailing comma, quote or possessive, and no full stop unless it ends an abbreviation
    ("U.S.", "D.C.")."""
    text = _POSSESSIVE.sub("", text.rstrip(",'"))
    last = text.split()[-1] if text.split() else ""
    return text if last.endswith(".") and "." in last[:-1] else text.rstrip(".")


def _names(sentence: str) -> list[tuple[str, int, bool]]:
    """Capitalised word runs (with 'of', 'al-' and the like inside), their word position, and a place-preposition
    before them; a sentence's first word counts only when it is part of a longer name."""
    tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(sentence)]
    out: list[tuple[str, int, bool]] = []
    i = 0
    stop = stopwords()
    while i < len(tokens):
        tok = tokens[i][0]
        if _capitalised(tok) and not (tok.lower() in stop and i == 0):
            j = i + 1
            while j < len(tokens) and j - i < MAX_NAME_WORDS and _joined(sentence, tokens[j - 1], tokens[j]) and (
                _capitalised(tokens[j][0])
                or (tokens[j][0].lower() in _CONNECTORS and j + 1 < len(tokens) and _capitalised(tokens[j + 1][0]))
            ):
                j += 1
            end = j
            while end > i + 1 and _CALENDAR.fullmatch(tokens[end - 1][0]):  # "Joe Biden Thursday": a time follows
                end -= 1
            run = [t for t, _ in tokens[i:end]]
            while run and run[0].lower() in stop:  # "The Pentagon" -> "Pentagon" only for a lone article
                if len(run) == 1:
                    break
                run = run[1:]
            # a lone function word ("To"), month or weekday ("May") is not a name
            if run and not (len(run) == 1 and (run[0].lower() in stop or _CALENDAR.fullmatch(run[0]))):
                text = sentence[tokens[end - len(run)][1] : tokens[end - 1][1] + len(tokens[end - 1][0])]
                before = tokens[i - 1][0].lower() if i else ""
                out.append((_name_text(text), i + (end - i - len(run)), before in _PLACE_PREP))
            i = j
        else:
            i += 1
    return out


def _phrases(sentence: str) -> list[tuple[str, int]]:
    """Runs of content words ("recalled deli meat products") and their endings ("deli meat products", "meat
    products", "products"): without a parser, the noun phrase's head is taken to be at the run's end."""
    stop = stopwords()
    tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(sentence)]
    out: list[tuple[str, int]] = []
    i = 0
    while i < len(tokens):
        if tokens[i][0].lower() in stop or _capitalised(tokens[i][0]) or tokens[i][0][:1].isdigit():
            i += 1
            continue
        j = i + 1
        while (j < len(tokens) and j - i < MAX_PHRASE_WORDS and _joined(sentence, tokens[j - 1], tokens[j])
               and tokens[j][0].lower() not in stop and not tokens[j][0][:1].isdigit()):
            j += 1
        for k in range(i, j):
            text = sentence[tokens[k][1] : tokens[j - 1][1] + len(tokens[j - 1][0])].rstrip(".,'\"")
            out.append((text, k))
        i = j
    return out


def spans(cand: Candidate, question: Question) -> list[Span]:
    """Every span of the candidate's answering sentence that could be a short answer."""
    sentence = cand.answer
    out: list[Span] = []
    for text, pos, after_prep in _names(sentence):
        if not _TIME_SPAN.fullmatch(text):  # "Sunday" is a time, not a name
            out.append(Span(text, "place" if after_prep else "name", cand, pos))
    offset_words = [m.start() for m in _TOKEN.finditer(sentence)]

    def word_at(char: int) -> int:
        return sum(1 for s in offset_words if s < char)

    for m in _TIME_SPAN.finditer(sentence):
        out.append(Span(m.group(), "time", cand, word_at(m.start())))
    for m in _NUMBER_SPAN.finditer(sentence):
        text = m.group().strip()
        if text and not _TIME_SPAN.fullmatch(text):
            out.append(Span(text, "number", cand, word_at(m.start())))
    for m in _QUOTE_SPAN.finditer(sentence):
        if len(m.group(1).split()) <= MAX_SPAN_WORDS:
            out.append(Span(m.group(1).strip(" ,."), "quote", cand, word_at(m.start())))
    for text, pos in _phrases(sentence):
        out.append(Span(text, "phrase", cand, pos))
    pieces = clauses(sentence) or [sentence]
    for piece in pieces:
        if len(piece.split()) <= MAX_SPAN_WORDS:
            out.append(Span(piece.strip(" ,.;:"), "clause", cand, word_at(sentence.find(piece))))
    return [s for s in out if s.text and len(s.text.split()) <= MAX_SPAN_WORDS]


def _kind_of(span: str, focus: str) -> bool:
    try:
        return is_kind(span, focus)
    except LexiconMissing:
        warn_lexicon_missing()
        return False


def normalize(text: str) -> str:
    """Lower case, no punctuation or articles: how spans are compared with each other."""
    toks = [w for w in words(text) if w not in {"a", "an", "the"}]
    return " ".join(toks)


def holds(text: str, span: str) -> bool:
    """True when `text` contains `span` as whole words, compared after `normalize`."""
    key = normalize(span)
    return bool(key) and f" {key} " in f" {normalize(text)} "


def span_features(
    question: Question, found: Sequence[Span], ranked: Sequence[Candidate], embed: Embed
) -> np.ndarray:
    """One row of SPAN_FEATURES per span; `ranked` are the candidates with probabilities, best first; `embed`
    gives unit vectors of short texts (the spans and the question's focus)."""
    X = np.zeros((len(found), len(SPAN_FEATURES)), dtype=np.float32)
    if not found:
        return X
    col = {name: i for i, name in enumerate(SPAN_FEATURES)}
    if question.focus:
        vectors = embed([question.focus, *(s.text for s in found)])
        X[:, col["type_fit"]] = [float(vectors[question.focus] @ vectors[s.text]) for s in found]
        X[:, col["focus_kind"]] = [_kind_of(s.text, question.focus) for s in found]
    best = ranked[0] if ranked else None
    q_terms = set(question.terms) | set(question.subject)
    pool = [(c, f" {normalize(c.text)} ") for c in ranked]
    # Per sentence, once: its tokens and where the question's terms occur in it.
    tokens: dict[int, list[str]] = {}
    hits: dict[int, list[int]] = {}
    for cand in {id(s.cand): s.cand for s in found}.values():
        tokens[id(cand)] = words(cand.answer)
        hits[id(cand)] = [j for j, w in enumerate(tokens[id(cand)]) if term_set(w) & q_terms]
    for i, span in enumerate(found):
        row = X[i]
        key = normalize(span.text)
        containing = [c for c, text in pool if key and f" {key} " in text]
        row[col["sentence_p"]] = span.cand.probability
        row[col["sentence_best"]] = span.cand is best
        row[col["support"]] = sum(c.probability for c in containing)
        row[col["sources"]] = math.log1p(len({c.passage.source_id for c in containing}))
        terms = term_set(span.text)
        row[col["in_question"]] = len(terms & q_terms) / max(1, len(terms))
        sent_tokens, sent_hits = tokens[id(span.cand)], hits[id(span.cand)]
        n_span = len(span.text.split())
        if sent_hits:
            gap = min(min(abs(j - span.start), abs(j - (span.start + n_span - 1))) for j in sent_hits)
            row[col["near_question"]] = 1.0 / (1 + gap)
        row[col["log_words"]] = math.log(max(1, n_span))
        row[col["position"]] = span.start / max(1, len(sent_tokens) - 1)
        if span.kind == "number" and question.counted:
            after = sent_tokens[span.start + n_span : span.start + n_span + 3]
            row[col["counted_follows"]] = any(question.counted in term_set(w) for w in after)
        row[col[f"{span.kind}_x_{question.answer_type}"]] = 1.0
    return X
