"""Follow-up questions: turn a question that leans on the conversation into one that stands alone."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .models import Message

_REFERRING = re.compile(
    r"\b(he|him|his|she|her|hers|they|them|their|theirs|it|its|this|that|these|those|there|then|"
    r"the same|the other|else|also|too)\b",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"^(and|but|so|also|what about|how about|why|who else|anything else)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][\w'-]*")
_SHORT = 4  # words


def is_followup(question: str) -> bool:
    """A question that points back at the conversation (a pronoun, 'what about ...', or very short)."""
    q = question.strip()
    return bool(_REFERRING.search(q) or _CONTINUATION.match(q) or len(_WORD.findall(q)) < _SHORT)


_NAME = re.compile(r"\b[A-Z][\w'-]+(?:\s+(?:al-|bin\s+)?[A-Z][\w'-]+)+")
_MARKER = re.compile(r"\[[^\]]*\]")


def names(text: str, limit: int = 4) -> list[str]:
    """Multi-word capitalised names in `text` ("Nechirvan Barzani", "Qais al-Khazali"), first few, no repeats."""
    found = dict.fromkeys(m.group() for m in _NAME.finditer(_MARKER.sub(" ", text)))
    return list(found)[:limit]


def followup_context(question: str, history: Sequence[Message]) -> tuple[str, list[str]]:
    """For a follow-up: the previous user question and the names the reply to it gave; empty otherwise."""
    if not history or not is_followup(question):
        return "", []
    last_user = next((i for i in range(len(history) - 1, -1, -1) if history[i].role == "user"), None)
    if last_user is None:
        return "", []
    asked = history[last_user].content.strip()
    replies = " ".join(m.content for m in history[last_user + 1 :] if m.role == "assistant")
    return asked, [n for n in names(replies) if n not in asked]


def standalone_question(question: str, history: Sequence[Message]) -> str:
    """For a follow-up: the previous question, the names the reply to it gave, then the question.

    "What position does he hold?" after a reply naming Nechirvan Barzani becomes a question about him.
    Questions that stand alone are returned unchanged.
    """
    asked, named = followup_context(question, history)
    return " ".join([asked, *named, question]) if asked else question
