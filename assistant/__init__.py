"""newsdesk: questions about a set of news articles, answered with verbatim, attributed citations."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

# Models come from installed packages only; a hub lookup must fail fast instead of hanging.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from .core import Assistant, IndexStatus  # noqa: E402
from .errors import (  # noqa: E402
    AssistantError,
    ConfigurationError,
    CorpusError,
    InvalidQuestionError,
)
from .models import Answer, Citation, Disagreement, IndexReport, Message, Position, Skipped  # noqa: E402
from .settings import Settings  # noqa: E402

__all__ = [
    "Answer", "Assistant", "AssistantError", "Citation", "ConfigurationError", "CorpusError", "Disagreement",
    "IndexReport", "IndexStatus", "InvalidQuestionError", "Message", "Position", "Settings", "Skipped", "ask",
    "default_assistant",
]

_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The shared Assistant built from default settings (environment included) on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Assistant(Settings())
        return _default


def ask(
    question: str, history: Sequence[dict[str, Any] | Message] | None = None, *, by_source: bool = False
) -> Answer:
    """Answer a question about the corpus; `history` is chat messages [{"role", "content"}, ...].

    `by_source=True`: one line per article with what it says on the question, or that it says nothing.
    """
    return default_assistant().ask(question, history, by_source=by_source)
