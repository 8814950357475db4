"""Word-level analysis shared by the answerer: content terms, stems, and the subject of a question."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_TOKEN = re.compile(r"[a-z0-9]+(?:[-'.][a-z0-9]+)*")
_NAME_PREFIX = re.compile(r"^(al|el|ad|as|an)-")
_EXTRA_STOP = {"did", "does", "do", "say", "said", "says", "tell", "told", "according", "article", "articles",
               "mr", "mrs", "ms", "many", "much", "also", "would", "could", "one", "get", "got", "go", "went"}
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
    """One spelling per word: lower case, no possessive, no Arabic article on names, US variants merged, stemmed."""
    token = token.lower().strip(".'-")
    if token.endswith("'s"):
        token = token[:-2]
    token = _NAME_PREFIX.sub("", token)
    if token in _US or token == "united-states":
        return "us"
    if "-" in token:  # compounds stay whole: "iran-backed" is not "iran"
        return token
    return _stemmer().stemWord(token)


def words(text: str) -> list[str]:
    """Raw lower-case word tokens, compounds and abbreviations kept whole."""
    text = text.lower().replace("united states", "united-states")
    return _TOKEN.findall(text)


def content_terms(text: str) -> list[str]:
    """Canonical forms of the non-stop-words of `text`, in order, without repeats."""
    stop = stopwords()
    seen: dict[str, None] = {}
    for word in words(text):
        if word.strip(".'") not in stop:
            seen.setdefault(canonical(word), None)
    return list(seen)


def term_set(text: str) -> set[str]:
    """Canonical forms of every word of `text`, plus the base of each demonym ("iranian" -> "iran")."""
    out: set[str] = set()
    for word in words(text):
        form = canonical(word)
        out.add(form)
        if word.startswith("un") and len(word) >= 6:  # "unhurt" speaks to "hurt", "unharmed" to "harmed"
            out.add(canonical(word[2:]))
        if "-" not in form:
            for suffix in ("ian", "ians", "i", "is", "ese", "an", "ans", "ist", "ists"):
                if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                    out.add(canonical(word[: -len(suffix)]))
    return out


_AUX = r"(?:did|does|do|has|have|had|is|was|were|are|will|would|could|can|should)"
_SUBJECT_Q = re.compile(
    rf"^(?i:(?:(?:who|whom|what|which|when|where|why|how(?: \w+)?)\s+(?:\w+\s+)?)?{_AUX}\s+(?:the\s+|a\s+|an\s+)?)"
    r"(?P<subject>(?:(?:[A-Z][\w.'-]*|al-\w+|of)\s*)+)"
)


def question_subject(question: str) -> set[str]:
    """Canonical terms of the named subject of a question ("Who did Iran blame?" -> {"iran"}); may be empty.

    The subject matters: a sentence in which someone else blames someone does not answer the question.
    """
    m = _SUBJECT_Q.match(question.strip())
    if not m:
        return set()
    names = [w for w in m.group("subject").split() if w != "of"]
    return {canonical(w) for w in names if w.lower() not in stopwords()}


_BE = {"was", "were", "is", "are", "be", "been", "being"}
_HAVE = {"has", "have", "had"}


def is_agent(text: str, subject: set[str]) -> bool:
    """True when a subject term occurs in `text` as the one acting, not as the patient of a passive verb or
    the topic of a copula: "Iran has been blamed", "Iran was unlikely to ..." mention Iran, but Iran acts in neither.
    """
    tokens = words(text)
    for i, token in enumerate(tokens):
        if canonical(token) not in subject and not any(canonical(token[: -len(s)]) in subject
                                                        for s in ("ian", "i", "an") if token.endswith(s)):
            continue
        rest = tokens[i + 1 : i + 3]
        acted_on = bool(rest) and (rest[0] in _BE or (rest[0] in _HAVE and rest[1:2] == ["been"]))
        if not acted_on:
            return True
    return False
