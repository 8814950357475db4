"""Where sources disagree: each quote's answer to the point is read as a typed value, and the values are compared.

A point is a question. Each quote that answers it gives a side: a count of the thing asked about ("three",
"at least two"), a yes or a no for a yes/no question, or who or where for a question about who was behind
something or where it came from. Two quotes conflict when both give a side and no side of one is compatible
with a side of the other; a quote that reports both sides ("Iran insinuated the U.S. was behind it, despite
evidence ... Tehran-backed militias") agrees with each. Sides are read with a small grammar; named sides are
compared by embedding, so "Iranian-backed militia" and "Tehran-backed militias" are one side.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

from .features import Embed, kin
from .lexicon import LexiconMissing, relatives, warn_lexicon_missing
from .models import Citation, Disagreement, Position
from .questions import Question, counted_word
from .tagging import tag_or_none
from .terms import canonical, negated_base, stopwords, term_set, word_spans, words

SAME_SIDE = 0.6  # cosine at which two named sides are one (MiniLM: name variants score ~0.7, rival parties <0.5)
# A negation answers a yes/no question only when the words around it are about what is asked: "he wasn't hurt"
# is, "would not accept dragging Iraq into chaos" is not. Cosine of the question with the cue's window, set on
# the gold set's disputed questions (on-topic windows 0.51-0.77, off-topic 0.10-0.27); measured on held-out pairs.
NEGATION_SCOPE = 0.45
NEGATION_WINDOW = (4, 5)  # words before and after a negation cue that say what it negates
MAX_SIDE_WORDS = 6  # a named side is a short noun phrase; longer captures run into the next clause
PREDICATE_NEGATION_REACH = 4  # words before the asked-about word a negation reaches: "he was not seriously hurt"
SAYS_BEFORE = 2  # words shown before the asked-about word that says yes: "a light cut", "leaders condemned"

# Explicit counts only: "an explosive-laden drone struck" tells how many struck, not how many were used.
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "single": 1}
_QUALIFIER = re.compile(r"^(?:at least|at most|more than|fewer than|less than|up to|about|around|nearly|some)$")
# Nouns that make the counted word a modifier ("a drone attack" counts attacks, not drones).
_COMPOUND_HEADS = {"attack", "attacks", "strike", "strikes", "assault", "program", "programme", "operator",
                   "footage", "war", "warfare", "incident", "threat", "threats", "base", "bases"}
# Cues that a yes/no question is answered "no": negation, and the adjectives of coming out of something intact.
_NEGATIVE = re.compile(
    r"\b(?:not|no|never|none|neither|nor|without|n't|wasn't|weren't|isn't|aren't|didn't|doesn't|hasn't|"
    r"haven't|unhurt|unharmed|unscathed|uninjured|intact|escaped|denied|failed)\b|n[’']t\b",
    re.IGNORECASE,
)
_CULPRIT = re.compile(
    r"(?:\bcarried out by|\bconducted by|\borchestrated by|\blaunched by|\bthe work of|\bplot by"
    r"|\bblamed\s+(?:\w+\s+){0,3}?on|\bpointed the finger at|\baccused|\bresponsibility (?:of|on))"
    r"\s+(?P<after>[^,.;:\u2014]+)"
    r"|\bit was\s+(?P<cleft>[^,.;:\u2014]+?)\s*(?:\u2014[^\u2014]*\u2014\s*)?(?:who|that)\s+(?:carried out|launched|"
    r"conducted|attacked|was behind)"
    r"|(?P<before>[A-Z][\w.\u2019'-]*(?:\s+[\w.\u2019'-]+){0,6}?)\s+(?:was|were|is|are|may have been|might have been|"
    r"had been|could be)\s+(?:behind|responsible|[\u201c\"]?the\s+(?:\w+\s+){0,3}culprits?)"
    r"|(?P<plotter>\b[A-Z][\w.]*(?:\s+[A-Z][\w.]*)?)\s+plots?\b",
)
_ORIGIN = re.compile(
    r"\b(?:took off from|came from|launched from|flew from|fired from|originated (?:in|from)|from the direction of)"
    r"\s+(?P<after>[^,.;:\u2014]+)"
)
_LEADING = re.compile(r"^(?:the|a|an|that|its|their|his|her)\s+", re.IGNORECASE)
# A yes/no question's quantified subject: "Did any group take credit" asks about the credit, not the group.
_QUANTIFIED = re.compile(r"^\s*\w+\s+(?:any|some|no|each|every|either|neither)\s+(?:of\s+(?:the\s+)?)?([\w-]+)",
                         re.IGNORECASE)
# Where a yes/no question's setting starts: "Was he hurt | in the attack?" asks about being hurt; the attack is
# what every quote on the topic mentions.
_SETTING = re.compile(r"\s(?:in|during|on|at|by|after|before|from|since|against|for|over|with|into|amid)\s.*$",
                      re.IGNORECASE)


@dataclass(frozen=True)
class Side:
    """One answer a quote gives to the point."""

    text: str  # as shown to the reader
    key: str  # what is compared: a count, "yes"/"no", or the named side
    says: str = field(default="", compare=False)  # for a yes or a no: the quote's own words that give it


# A thousands separator inside a number ("2,500 troops" is one count, not a 2 and a 500).
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


def _count_sides(quote: str, noun: str, same: AbstractSet[str] = frozenset()) -> list[Side]:
    tokens = words(_THOUSANDS.sub("", quote.replace("\u2019", "'")))
    found: list[Side] = []
    for i, tok in enumerate(tokens):
        value = _NUMBER_WORDS.get(tok) if not tok.isdigit() else int(tok)
        if value is None:
            continue
        shown = f"{value:,}" if tok.isdigit() else "one" if tok == "single" else tok
        # The counted noun within the next few words, as the head (not "a drone attack").
        for j in range(i + 1, min(i + 5, len(tokens))):
            if canonical(tokens[j]) == noun or canonical(tokens[j]) in same:
                if j + 1 < len(tokens) and tokens[j + 1] in _COMPOUND_HEADS:
                    break
                # "at least two", "about 2,500": a two-word qualifier, else a one-word one, right before
                qual = next((q for q in (" ".join(tokens[max(0, i - n) : i]) for n in (2, 1)) if _QUALIFIER.match(q)),
                            "")
                # compared by value: "three drones" and "3 drones" are one side
                found.append(Side(f"{qual} {shown}".strip(), f"{qual} {value}".strip()))
                break
            if tokens[j] in {"of", "and", "or", "were", "was", "to"}:
                break
    return found


# Where a named side ends: a preposition, a relative word or a time word starts what is said about it.
_SIDE_END = re.compile(
    r"[\u201d\"]|\s(?:with|in|on|at|of|for|earlier|later|since|after|before|who|which|that|despite|to|and|but|as|"
    r"while|this|last|over)\s",
)


def _named(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    if groups.get("cleft") or groups.get("plotter"):
        text = groups.get("cleft") or groups["plotter"]
    elif groups.get("after"):
        text = _SIDE_END.split(" " + groups["after"].strip(" \u201c\u201d\"'") + " ", maxsplit=1)[0]
    else:
        # "Iran on Sunday insinuated the U.S. was behind": the few words right before, from a name or "the".
        words_before = (groups.get("before") or "").split()
        tail = words_before[-3:]
        if not any(w[0].isupper() for w in tail):  # "the United States and its allies were behind"
            tail = words_before[-6:]
        start = next((i for i, w in enumerate(tail) if w[0].isupper() or w.lower() == "the"), len(tail))
        text = " ".join(tail[start:])
    parts = _LEADING.sub("", text.strip(" \u201c\u201d\"'")).split()
    return " ".join(parts[:MAX_SIDE_WORDS]) if parts else None


def negation_windows(quote: str) -> list[str]:
    """The words around each negation cue of a quote: what the negation may be about."""
    tokens = quote.split()
    before, after = NEGATION_WINDOW
    return [" ".join(tokens[max(0, i - before) : i + after + 1]) for i, tok in enumerate(tokens)
            if _NEGATIVE.search(tok)]


class Sides:
    """Reads the side each quote takes on a point; `embed` compares named sides."""

    def __init__(self, embed: Embed) -> None:
        self.embed = embed

    def of(self, question: Question, quote: str, context: Sequence[str] = ()) -> list[Side]:
        """The sides a quote gives on the question (empty: it gives none this reader can tell). `context`: the
        other quotes read on the same point, which tell the topic they share from what the question asks."""
        if question.active and question.subject:
            return []  # "Who did Iran blame?" asks for one party's claim, not for how the sources compare
        if question.counted:
            # what the quote counts may be named otherwise ("troops" for "how many soldiers"): looked up only when
            # the question's own word finds no count
            return _count_sides(quote, question.counted) or _count_sides(
                quote, question.counted, kin(counted_word(question.text), [quote], self.embed))
        if question.answer_type == "yesno":
            return self._polar(question, quote, context)
        q = question.text.lower()
        if re.search(r"\b(behind|responsible|carried out|blame|culprit|perpetrat|who (?:attacked|launched|did))", q):
            pattern = _CULPRIT
        elif re.search(r"\bwhere\b.*\b(from|come|came|launch|originat|fired|took off)\b", q):
            pattern = _ORIGIN
        else:
            return []
        return [Side(t, t) for t in dict.fromkeys(filter(None, (_named(m) for m in pattern.finditer(quote))))]

    def _polar(self, question: Question, quote: str, context: Sequence[str]) -> list[Side]:
        """Yes or no, from a quote that speaks to what is asked: it holds the asked-about word or a relative of it
        ("a light cut" answers "was he hurt?"), negated ("wasn't hurt", "unhurt", "denied responsibility") or not.
        A quote that only shares the topic ("a drone attacked his home") gives no side."""
        asked = predicate_forms(question, frozenset([quote, *context]))
        if not asked:  # the question names nothing beyond its subject and topic: read the negation alone
            return [Side("No", "no")] if self._negates(question, quote) else [Side("Yes", "yes")]
        spans = word_spans(quote.replace("\u2019", "'"))  # one for one: the offsets hold in `quote`
        tokens = [w for w, _, _ in spans]
        hits = [i for i, tok in enumerate(tokens) if canonical(tok) in asked or _negated_form(tok, asked)]
        if not hits:
            return []

        def cue(i: int) -> int | None:
            """Where the negation of hit `i` starts ("was not seriously hurt": "not"), if it is negated."""
            if _negated_form(tokens[i], asked):
                return i
            reach = range(max(0, i - PREDICATE_NEGATION_REACH), i)
            return next((j for j in reach if _NEGATIVE.search(tokens[j])), None)

        negated = [(start, i) for i in hits if (start := cue(i)) is not None]
        start, end = negated[0] if negated else (max(0, hits[0] - SAYS_BEFORE), hits[0])
        says = quote[spans[start][1] : spans[end][2]]
        return [Side("No", "no", says)] if negated else [Side("Yes", "yes", says)]

    def _negates(self, question: Question, quote: str) -> bool:
        windows = negation_windows(quote)
        if not windows:
            return False
        vectors = self.embed([question.text, *windows])
        return max(float(vectors[question.text] @ vectors[w]) for w in windows) >= NEGATION_SCOPE

    def compatible(self, a: Side, b: Side) -> bool:
        """Whether two sides are the same answer."""
        if a.key == b.key:
            return True
        if a.key in {"yes", "no"} or b.key in {"yes", "no"}:
            return False
        if _is_count(a.key) and _is_count(b.key):
            return False
        vectors = self.embed([a.key, b.key])
        return float(vectors[a.key] @ vectors[b.key]) >= SAME_SIDE

    def conflict(self, question: Question, a: str, b: str) -> bool:
        """Whether two quotes give incompatible answers to the question (both must give one)."""
        sa, sb = self.of(question, a, [b]), self.of(question, b, [a])
        if not sa or not sb:
            return False
        return not any(self.compatible(x, y) for x in sa for y in sb)

    def agreed(self, question: Question, citations: Sequence[Citation]) -> str | None:
        """A direct answer with its markers, from the side every citation that takes one agrees on (differing
        sides are shown as such): for "how many X", the count of X ('about 2,500 [1]'); for a yes-or-no question,
        a no in the quotes' own words ('No: wasn't hurt [1][2]'); None otherwise."""
        if not question.counted and question.answer_type != "yesno":
            return None
        quotes = [c.quote for c in citations]
        taken = [(c, sides) for c in citations if (sides := self.of(question, c.quote, quotes))]
        if len({side.key for _, sides in taken for side in sides}) != 1:
            return None
        side = taken[0][1][0]
        if question.answer_type == "yesno" and (side.key != "no" or not side.says):
            # Only a no leads: a quote negating the asked-about word says so; a yes is read from the word alone,
            # which a quote on something else may hold too (gold phrasings: 3 of 13 such leads were right).
            return None
        shown = f"{side.text}: {side.says}" if side.says else side.text
        return f"{shown} {''.join(f'[{c.marker}]' for c, _ in taken)}"

    def disagreements(self, question: Question, citations: Sequence[Citation]) -> list[Disagreement]:
        """Where the citations disagree on the point, as shown to the reader: nothing when the question asks for
        one party's account ("Who did CENTCOM's commander say was responsible?"): other parties' accounts answer
        another question, not this one otherwise."""
        return [] if question.one_account else self.conflicts(question, citations)

    def conflicts(self, question: Question, citations: Sequence[Citation]) -> list[Disagreement]:
        """The point's sides across the citations, when some two citations conflict; else nothing."""
        quotes = [c.quote for c in citations]
        read = [(c, self.of(question, c.quote, quotes)) for c in citations]
        read = [(c, s) for c, s in read if s]
        # Two sources at odds, or one quote that reports both sides ("Iran insinuated the U.S. ..., despite
        # evidence ... Tehran-backed militias").
        conflicting = any(
            ca.source_id != cb.source_id and not any(self.compatible(x, y) for x in sa for y in sb)
            for i, (ca, sa) in enumerate(read) for cb, sb in read[i + 1 :]
        ) or any(not self.compatible(x, y) for _, found in read for i, x in enumerate(found) for y in found[i + 1 :])
        if not conflicting:
            return []
        groups: list[tuple[Side, list[int]]] = []
        for cite, found in read:
            for side in found:
                group = next((g for g in groups if self.compatible(g[0], side)), None)
                if group is None:
                    groups.append((side, [cite.marker]))
                elif cite.marker not in group[1]:
                    group[1].append(cite.marker)
        groups.sort(key=lambda g: (-len(g[1]), min(g[1])))
        kind = "number" if question.counted else "yesno" if question.answer_type == "yesno" else "entity"
        positions = [Position(claim=side.text, markers=markers) for side, markers in groups]
        return [Disagreement(point=question.text, kind=kind, positions=positions)]


@lru_cache(maxsize=256)
def predicate_forms(question: Question, quotes: frozenset[str]) -> frozenset[str]:
    """Canonical forms that say what a yes/no question asks: the words of the question before its setting, less
    its subject and the topic the quotes share (a word more than half of them hold: "drones" in "Were any of the
    drones shot down?"; all the words when every one is shared), with their WordNet relatives (only the words
    themselves when WordNet is not installed). Read once per question and set of quotes, not once per quote."""
    body = _SETTING.sub("", question.text.rstrip(" ?"))
    sets = [term_set(q) for q in quotes]
    quantified = _QUANTIFIED.match(body)
    subject = question.subject | ({canonical(quantified.group(1))} if quantified else set())
    stop = stopwords()
    asked = [w for w in words(body) if w.strip(".'") not in stop and canonical(w) not in subject]
    rare = [w for w in asked if len(sets) < 2 or 2 * sum(canonical(w) in s for s in sets) <= len(sets)]
    tagged = tag_or_none(question.text) or ()
    # WordNet speaks for nouns, verbs and adjectives; a word mostly used otherwise brings only its own forms
    # ("behind", a preposition, would bring "seat": its first noun sense is the buttocks).
    other = {w.lower() for w, pos in tagged if pos[:2] not in ("NN", "VB", "JJ")}
    return frozenset(form for word in (rare or asked)
                     for form in ({canonical(word)} if word in other else _relatives(word)))


def _relatives(word: str) -> frozenset[str]:
    try:
        return relatives(word)
    except LexiconMissing:
        warn_lexicon_missing()
        return frozenset({canonical(word)})


def _negated_form(token: str, asked: AbstractSet[str]) -> bool:
    """'unhurt', 'unharmed', 'uninjured': a negated form of an asked-about word."""
    return negated_base(token) in asked


def _is_count(key: str) -> bool:
    return key.split()[-1] in _NUMBER_WORDS or key.split()[-1].isdigit()


def differ_line(disagreement: Disagreement) -> str:
    """The answer's first line for a disagreement: 'Sources differ: three [1][2]; at least two [3].'"""
    sides = "; ".join(f"{p.claim} {''.join(f'[{m}]' for m in p.markers)}" for p in disagreement.positions)
    return f"Sources differ: {sides}."
