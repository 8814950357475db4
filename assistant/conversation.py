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


def standalone_question(question: str, history: Sequence[Message]) -> str:
    """The question with the previous user turn prepended when it is a follow-up; unchanged otherwise."""
    previous = [m.content.strip() for m in history if m.role == "user" and m.content.strip()]
    if not previous or not is_followup(question):
        return question
    return f"{previous[-1]} {question}"
