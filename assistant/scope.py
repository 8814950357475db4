"""Questions about the sources themselves: "What does Press TV say about X?", "Do the outlets disagree about X?".

An outlet named in the question restricts the evidence to its articles; a question about how the sources compare
is answered source by source. Either way the question about the sources becomes a question about X.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from .conversation import Query
from .terms import content_terms

_COMPARE = re.compile(
    r"^\s*(?:(?:do|did|does|how|where|why)\s+(?:do|did|does\s+)?)?(?:the\s+|these\s+|all\s+|different\s+)?"
    r"(?:outlets|sources|articles|reports|media|papers|accounts|news\s+outlets)\s+"
    r"(?:disagree|differ|agree|conflict|vary|contradict\s+each\s+other)(?:\s+(?:about|on|over|regarding|as\s+to))?"
    r"\s*",
    re.IGNORECASE,
)
_COMPARE_ANYWHERE = re.compile(
    r"\b(?:disagree|differ|differs|differing|agree|conflicting|contradict|according\s+to\s+each|each\s+(?:outlet|"
    r"source|article)|(?:different|various|the)\s+(?:outlets|sources|accounts)\s+say|who\s+says\s+what)\b",
    re.IGNORECASE,
)
# "What does <outlet> say about", "<outlet>'s account of", ...; {outlet} is filled with the outlet's aliases.
_SAYS = (
    r"\b(?:what\s+(?:does|did|do)\s+)?(?:{outlet})(?:'s)?\s*(?:say|said|says|report|reported|reports|write|wrote|"
    r"claim|claimed|account|version)?\s*(?:about|on|of|that)?\s*"
)


@lru_cache(maxsize=1)
def _meta() -> frozenset[str]:
    """Terms of wording about the sources themselves (computed on first use: stop words load with llama-index)."""
    return frozenset(content_terms("differ disagree agree conflict vary account version report reports outlet source "
                                   "article"))


def aliases(outlet: str) -> list[str]:
    """Ways a reader names an outlet: its full name and a distinctive first word ("Sputnik")."""
    out = [outlet]
    first = outlet.split()[0]
    if len(first) >= 5 and first.lower() not in {"daily", "press", "times", "news", "the"}:
        out.append(first)
    return out


def named_outlets(question: str, outlets: Iterable[str]) -> list[str]:
    """The known outlets the question names, in the order given."""
    return [o for o in outlets if any(re.search(rf"\b{re.escape(a)}\b", question, re.IGNORECASE) for a in aliases(o))]


def _strip(text: str, outlets: list[str]) -> str:
    """The question with its wording about outlets taken out."""
    for outlet in outlets:
        pattern = "|".join(re.escape(a) for a in aliases(outlet))
        text = re.sub(rf"\baccording\s+to\s+(?:{pattern})\b", "", text, flags=re.IGNORECASE)
        text = re.sub(_SAYS.format(outlet=pattern), "", text, flags=re.IGNORECASE)
    text = _COMPARE.sub("", text)
    text = re.sub(r"\s+", " ", text).strip(" ,")
    return text[:1].upper() + text[1:] if text else text


def scope(query: Query, outlets: Iterable[str]) -> Query:
    """The query with the outlets it names and whether it compares sources; the question itself made plain."""
    known = list(dict.fromkeys(o for o in outlets if o))
    named = named_outlets(query.form, known)
    compare = bool(_COMPARE.match(query.form) or _COMPARE_ANYWHERE.search(query.form))
    if not named and not compare:
        return query
    form = _strip(query.form, named) or query.form
    text = form if query.text == query.form else _strip(query.text, named) or query.text
    if not set(content_terms(form)) - _meta():  # "How does Sputnik's account differ?": nothing left to ask about
        form, text = query.form, query.text
    return query.model_copy(update={"form": form, "text": text, "outlets": named, "by_source": compare})
