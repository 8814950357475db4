"""Sentence splitting with character spans, using the Punkt model that llama-index ships."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .models import Sentence

_PARAGRAPH = re.compile(r"[^\n]+")


@lru_cache(maxsize=1)
def _punkt():  # type: ignore[no-untyped-def]
    import llama_index.core
    import nltk
    from nltk.tokenize import PunktTokenizer

    # llama-index bundles punkt_tab, so nothing is downloaded at run time.
    cache = Path(llama_index.core.__file__).parent / "_static" / "nltk_cache"
    if str(cache) not in nltk.data.path:
        nltk.data.path.insert(0, str(cache))
    return PunktTokenizer("english")


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of `text` with their spans; a sentence never crosses a line break."""
    tokenizer = _punkt()
    out: list[Sentence] = []
    for para in _PARAGRAPH.finditer(text):
        for start, end in tokenizer.span_tokenize(para.group()):
            s, e = para.start() + start, para.start() + end
            out.append(Sentence(text=text[s:e], start=s, end=e))
    return out
