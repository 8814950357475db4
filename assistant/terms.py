"""Word-level analysis shared by the answerer: content terms, stems, and the subject of a question."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .places import country_of

_TOKEN = re.compile(r"[a-z0-9]+(?:[-'.][a-z0-9]+)*")
_NAME_PREFIX = re.compile(r"^(al|el|ad|as|an)-")
_EXTRA_STOP = {"did", "does", "do", "say", "said", "says", "tell", "told", "according", "article", "articles",
               "mr", "mrs", "ms", "many", "much", "also", "would", "could", "one", "get", "got", "go", "went",
               # the frame of an event question: "When did the attack happen?" asks when the attack was
               "happen", "happened", "happens", "occur", "occurred", "occurs"}
_TAKE_PLACE = re.compile(r"\b(?:take|takes|took|taken|taking)\s+place\b", re.IGNORECASE)  # "where did it take place"
_US = {"u.s", "us", "u.s.a", "usa", "america", "american", "americans", "washington"}


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """NLTK's English stop words (shipped inside llama-index) plus a few question words."""
    import llama_index.core

    path = Path(llama_index.core.__file__).parent / "_static" / "nltk_cache" / "corpora" / "stopwords" / "english"
    words = set(path.read_text(encoding="utf-8").split()) if path.exists() else set()
    return frozenset(words | _EXTRA_STOP)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def canonical(token: str) -> str:
    """One spelling per word: lower case, no possessive, no Arabic article on names, a capital as its country
    ("Tehran said" is Iran speaking; US variants -> "us"), stemmed."""
    token = token.lower().strip(".'-")
    if token.endswith("'s"):
        token = token[:-2]
    token = _NAME_PREFIX.sub("", token)
    if token in _US or token == "united-states":
        return "us"
    token = country_of(token) or token
    if "-" in token:  # compounds stay whole: "iran-backed" is not "iran"
        return token
    return _stemmer().stemWord(token)


def words(text: str) -> list[str]:
    """Raw lower-case word tokens, compounds and abbreviations kept whole."""
    return [w for w, _, _ in word_spans(text)]


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """`words`, each with where it starts and ends in `text` (the lower-casing keeps every offset)."""
    text = text.lower().replace("united states", "united-states")
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def content_terms(text: str) -> list[str]:
    """Canonical forms of the non-stop-words of `text`, in order, without repeats."""
    stop = stopwords()
    seen: dict[str, None] = {}
    for word in words(_TAKE_PLACE.sub(" ", text)):
        if word.strip(".'") not in stop:
            seen.setdefault(canonical(word), None)
    return list(seen)


def negated_base(word: str) -> str | None:
    """The canonical form a negated adjective negates ("unhurt" -> "hurt", "unharmed" -> "harm"); None for others."""
    return canonical(word[2:]) if word.startswith("un") and len(word) >= 6 else None


def term_set(text: str) -> set[str]:
    """Canonical forms of every word of `text`, plus the base of each demonym ("iranian" -> "iran")."""
    out: set[str] = set()
    for word in words(text):
        form = canonical(word)
        out.add(form)
        if word.endswith(("er", "or")) and len(word) >= 6:  # "leader" speaks to "leads"
            out.add(canonical(word[:-2]))
        if (base := negated_base(word)) is not None:  # "unhurt" speaks to "hurt", "unharmed" to "harmed"
            out.add(base)
        if "-" not in form:
            for suffix in ("ian", "ians", "i", "is", "ese", "an", "ans", "ist", "ists"):
                if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                    out.add(canonical(word[: -len(suffix)]))
    return out


_AUX = r"(?:did|does|do|has|have|had|is|was|were|are|will|would|could|can|should)"
_SUBJECT_Q = re.compile(
    rf"^(?i:(?:(?:who|whom|what|which|when|where|why|how(?: \w+)?)\s+(?:\w+\s+)?)?{_AUX}\s+(?:the\s+|a\s+|an\s+)?)"
    r"(?P<subject>(?:(?:[A-Z][\w.'-]*|al-\w+|of\b)\s*)+)"
)


def question_subject(question: str) -> set[str]:
    """Canonical terms of the named subject of a question ("Who did Iran blame?" -> {"iran"}); may be empty.

    The subject matters: a sentence in which someone else blames someone does not answer the question.
    """
    m = _SUBJECT_Q.match(question.strip())
    if not m:
        return set()
    names = [w for w in m.group("subject").split() if w != "of"]
    if not names:  # "Who has of ...": no name at all
        return set()
    if names[-1].endswith("'s") and question.strip()[m.end() :][:1].islower():
        # "Iran's foreign ministry spokesman": the actor is the spokesman, whom articles often name instead
        # ("Khatibzadeh urged ..."); the name in the question only qualifies him, so it cannot be required.
        return set()
    return {canonical(w) for w in names if w.lower() not in stopwords()}


_BE = {"was", "were", "is", "are", "be", "been", "being"}
_HAVE = {"has", "have", "had"}
_ADVERB = re.compile(r"^(\w+ly|now|also|still|not|never|already|again|then)$")
# "link Iran to", "blamed the attack on Iran": after these the subject is an object.
_BEFORE_OBJECT = {"on", "at", "to", "against", "with", "from", "into", "toward", "towards", "onto"}


def _acted_on(before: str | None, after: list[str]) -> bool:
    """Whether a mention, given the word before it and the words after it, is not the one acting."""
    if before in _BEFORE_OBJECT:
        return True
    if after[:1] and after[0] in _HAVE and after[1:2] == ["been"]:
        verb_phrase = after[2:]
    elif after[:1] and after[0] in _BE:
        verb_phrase = after[1:]
    else:
        return False
    verb = next((w for w in verb_phrase if not _ADVERB.match(w)), "")
    return not verb.endswith("ing")  # "Iran is now suggesting" acts; "Iran was blamed", "Iran was unlikely" do not


def is_agent(text: str, subject: set[str]) -> bool:
    """True when a subject term occurs in `text` as the one acting, not as the patient of a passive verb, the
    topic of a copula or the object of a preposition: "Iran has been blamed", "Iran was unlikely to ...",
    "blamed the attack on Iran" mention Iran, but Iran acts in none of them.
    """
    tokens = words(text)
    for i, token in enumerate(tokens):
        if canonical(token) not in subject and not any(canonical(token[: -len(s)]) in subject
                                                        for s in ("ian", "i", "an") if token.endswith(s)):
            continue
        if not _acted_on(tokens[i - 1] if i else None, tokens[i + 1 : i + 5]):
            return True
    return False
