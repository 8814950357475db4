"""What a question asks for, read from its wording: the answer type, the subject, the act, the date it was asked.

These are inputs to the learned answer model (assistant/features.py), not scores: the model weighs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from .attribution import CLAIM_LEMMAS, DEED_OBJECTS
from .tagging import Tagged, ends_noun_phrase, tag_or_none
from .terms import canonical, content_terms, question_subject, stopwords
from .text import normalize

# Answer types a question can ask for; spans (assistant/spans.py) have matching kinds.
ANSWER_TYPES = ("person", "number", "time", "place", "entity", "yesno", "other")

_DATED = re.compile(r"^\s*\(Asked on (\d{4})-(\d{2})-(\d{2})\)\s*")
_WHO_VERB = re.compile(
    r"\bwho\s+(?!(?:was|is|were|are|did|does|do|has|have|had|will|would|could|can|should|else)\b)([a-z]+)\b",
    re.IGNORECASE,
)
_YES_NO = re.compile(r"^\s*(was|were|is|are|did|does|do|has|have|had|can|could|will|would|should)\b", re.IGNORECASE)
_NUMBER_Q = re.compile(
    r"\bhow (many|much|old|long|big|large|far|tall|high|often)\b|\bwhat (percentage|percent|number|share|"
    r"proportion|amount|price|age|score|rate|total)\b|\bby how\b",
    re.IGNORECASE,
)
_TIME_Q = re.compile(r"\bwhen\b|\bwhat (time|day|date|year|month|week|decade)\b|\bwhich (day|year|month|date)\b",
                     re.IGNORECASE)
_PLACE_Q = re.compile(
    r"\bwhere\b|\b(what|which) (city|country|state|nation|town|region|province|island|county|continent|place|"
    r"location|capital|neighborhood|venue|stadium|airport|port)\b|\bin which\b",
    re.IGNORECASE,
)
_PERSON_Q = re.compile(r"\bwho(m|se)?\b|\b(what|which) (person|man|woman|player|actor|actress|singer|author|"
                       r"president|leader|senator|candidate|official|ceo|coach|celebrity|rapper|athlete)\b",
                       re.IGNORECASE)
_ENTITY_Q = re.compile(r"\b(which|what) [a-z]+\b|\bname (of|the)\b|\bcalled\b|\bnamed\b", re.IGNORECASE)
# "What is his name?", "Name?", and "What's the spokesman called?" (but not "What did Biden call the attack?": a
# label, not a name).
NAME_Q = re.compile(r"\bname[sd]?\b|\b(?:is|are|was|were|'s)\b[^?]*\bcalled\s*\??\s*$", re.IGNORECASE)
# The words that say what kind of thing the answer is: "Which *Republican candidate* was ...", "the name of the
# *festival*", "what kind of *insect*".
_FOCUS = (re.compile(r"\bname of (?:the |a |an |this |that )?((?:[\w'&-]+\s+){0,3}[\w'&-]+)", re.IGNORECASE),
          re.compile(r"\b(?:which|what)\s+(?:(?:kind|type|sort) of\s+)?((?:[\w'&-]+\s+){0,3}[\w'&-]+)",
                     re.IGNORECASE))
_TYPE_FOCUS = {"person": "person", "place": "place", "time": "date"}  # "who", "where", "when"
MAX_FOCUS_WORDS = 2  # "Republican candidate", "Machines spacecraft": the head and the word before it


# Plurals that end neither in -s nor in -men; the head of "how many" is usually a plural noun.
_IRREGULAR_PLURALS = frozenset({"people", "children", "police", "personnel", "staff", "sheep", "fish", "aircraft"})


def _plural(word: str) -> bool:
    """A word that reads as a plural noun ("drones", "UAVs", "militiamen"), not "U.S.", "was" or "its"."""
    low = word.lower()
    if "." in word.strip(".") or low in stopwords():
        return False
    return low in _IRREGULAR_PLURALS or low.endswith("men") or (
        len(low) > 3 and low.endswith("s") and not low.endswith(("ss", "us", "is", "'s")))


def counted_word(question: str) -> str | None:
    """What "how many" counts, as written: the head of the noun phrase after it ("how many American troops were" ->
    troops, "how many U.S. soldiers" -> soldiers, "how many demonstrators died" -> demonstrators): its first
    plural noun, else its last word before a function word."""
    m = re.search(r"\bhow many ((?:[\w.'-]+\s*){1,4})", question, re.IGNORECASE)
    if not m:
        return None
    phrase: list[str] = []
    for word in m.group(1).split():
        if word.lower() in stopwords():
            break
        phrase.append(word)
    return next((w for w in phrase if _plural(w)), phrase[-1] if phrase else None)


def counted_noun(question: str) -> str | None:
    """The canonical form of what "how many" counts ("how many U.S. soldiers" -> "soldier")."""
    head = counted_word(question)
    return canonical(head) if head else None


@dataclass(frozen=True)
class Question:
    """A question's wording, analysed once: every check here is a feature of the learned model."""

    text: str
    asked_on: date | None
    answer_type: str
    terms: tuple[str, ...]
    subject: frozenset[str]
    active: bool  # "Who did Iran blame?": the subject must be the one acting
    act: str | None  # "Who succeeded X?": the act must be mentioned
    counted: str | None  # "how many drones": the number must count drones
    wants_name: bool  # "what is his name?": a full name must be given

    @classmethod
    def of(cls, question: str) -> Question:
        """Analyse a question (RealTime QA's "(Asked on YYYY-MM-DD)" prefix gives the date it was asked), read with
        the articles' typography ("CENTCOM\u2019s" as "CENTCOM's"), as the corpus was cleaned."""
        question = normalize(question)
        asked_on = None
        m = _DATED.match(question)
        if m:
            try:
                asked_on = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                asked_on = None
            question = question[m.end() :]
        act = _WHO_VERB.search(question)
        return cls(
            text=question,
            asked_on=asked_on,
            answer_type=answer_type(question),
            terms=tuple(content_terms(question)),
            subject=frozenset(question_subject(question)),
            active=bool(re.match(r"\s*\w+\s+(did|does|do)\b", question, re.IGNORECASE)),
            act=canonical(act.group(1)) if act else None,
            counted=counted_noun(question),
            wants_name=bool(NAME_Q.search(question)),
        )

    @cached_property
    def focus(self) -> str | None:
        """What kind of thing the answer is, in the question's words ("Which comedian announced ..." -> comedian;
        "What is the name of the festival ..." -> festival); None when the wording does not say."""
        for name_of, pattern in zip((True, False), _FOCUS, strict=True):
            for m in pattern.finditer(self.text):
                run = _noun_run(self.text[m.start(1):], possessor_qualifies=name_of)
                if run:  # the phrase's head is taken to be at its end
                    return " ".join(run[-MAX_FOCUS_WORDS:])
        return _TYPE_FOCUS.get(self.answer_type)

    @cached_property
    def one_account(self) -> bool:
        """Whether the question asks for one party's account, not for what happened: "Who did CENTCOM's commander
        say was responsible?", "According to the Iranians, who was behind it?", "Which general blamed the attack
        on someone?". Other parties' accounts then answer another question, not this one the other way: they are
        not a disagreement. Asking what the outlets or sources say is asking for all of them."""
        according = re.search(r"\baccording to ([^,?]+)", self.text, re.IGNORECASE)
        if according:
            return not _generic_claimant(according.group(1).split())
        tokens = self.text.rstrip(" ?").split()
        if not tokens or tokens[0].lower() not in _WH:
            return False
        for i, word in enumerate(tokens[1:], start=1):
            low = word.lower()
            if low in _BE:
                return False  # "Who was blamed for the attack?": the blame itself, from whoever
            if canonical(low) in _CLAIMS and (i + 1 == len(tokens) or tokens[i + 1].lower() not in DEED_OBJECTS):
                aux = next((j for j in range(1, i) if tokens[j].lower() in _DO), None)
                return aux is None or (i > aux + 1 and not _generic_claimant(tokens[aux + 1 : i]))
        return False

    @cached_property
    def known(self) -> frozenset[str]:
        """Terms the question itself names: an answer must bring something beyond them."""
        return frozenset(self.terms) | self.subject


_WH = frozenset({"who", "whom", "what", "which", "how", "why", "when", "where"})
_BE = frozenset({"is", "are", "was", "were", "be", "been"})
_DO = frozenset({"did", "does", "do", "has", "have", "had"})
_CLAIMS = frozenset(canonical(w) for w in CLAIM_LEMMAS)  # "say", "blame", "claim", ... as a question asks with them
# Who asks for every account, not one: "What do the outlets say ...?", "Who do the reports blame?"
_GENERIC_CLAIMANTS = frozenset(canonical(w) for w in (
    "outlet", "source", "article", "report", "media", "news", "coverage", "paper", "account", "journalist"))


def _generic_claimant(words: list[str]) -> bool:
    return any(canonical(w.strip(",.'")) in _GENERIC_CLAIMANTS for w in words)


def _noun_run(text: str, possessor_qualifies: bool) -> list[str]:
    """The noun phrase at the start of `text`, the part after "Which" or "the name of": its first word always, then
    words up to a function word, a verb or an adverb ("Which state | cast their ballots", "Which model | plays
    Elton John", "Which airline | recently shut down"; without the tagger: a past tense), or a name after a common
    noun ("the charity | Prince Harry stood down"). A possessive ends it ("which animal | 's brain": an animal), or,
    after "the name of", gives way to what it qualifies ("the name of November's | supermoon")."""
    tagged = tag_or_none(text)
    tokens: Tagged = tagged if tagged is not None else tuple((w, "") for w in text.split())
    run: list[str] = []
    for i, (word, _) in enumerate(tokens):
        if word == "'s" and possessor_qualifies:
            run = []
            continue
        if word.lower() in stopwords() or not word[:1].isalnum():
            break
        if run and (ends_noun_phrase(tokens, i) if tagged is not None else word.lower().endswith("ed")):
            break
        following = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        if run and word[:1].isupper() and following[:1].isupper() and run[-1][:1].islower():
            break
        run.append(word)
    return run


# "Who is Qais al-Khazali?" asks what a named person is (a description), not for a person.
_WHO_IS_NAME = re.compile(
    r"^\s*(?i:who)(?:'s|\u2019s|\s+is|\s+was)\s+(?:(?:(?:al|el|bin|ibn|abu)-)?[A-Z][\w.'\u2019-]*\s*){1,4}\?*\s*$")


def answer_type(question: str) -> str:
    """The kind of answer the wording asks for: one of ANSWER_TYPES."""
    if _WHO_IS_NAME.match(question):
        return "other"
    if _NUMBER_Q.search(question):
        return "number"
    if _TIME_Q.search(question):
        return "time"
    if _PLACE_Q.search(question):
        return "place"
    if _PERSON_Q.search(question):
        return "person"
    if _YES_NO.match(question) and not re.search(r"\b(who|what|which|when|where|how)\b", question, re.IGNORECASE):
        return "yesno"
    if _ENTITY_Q.search(question) and not re.search(r"\bwhat (did|does|do|was|is|were|are|has|have)\b",
                                                     question, re.IGNORECASE):
        return "entity"
    return "other"
