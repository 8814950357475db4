"""Cleaning keeps the article body and drops scraped page furniture."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.corpus import parse_article, read_corpus
from assistant.text import flatten, normalize

from .conftest import SEED_CORPUS

NOISE = [
    "Sign up for Daily Newsletters", "Source link", "SHARE THIS ARTICLE", "presstv.co.uk", "Roku",
    "log in or register", "To participate in the discussion", "Заголовок", "viagra", "admin in:",
    "Hello there, just became aware", "Great article with insight", "Sputnik International, 1920",
    "(Photo by AFP)", "© Photo", "alternate addresses", "twitter.com/middleeasttime", "News / Iraq", "Celebrity News",
]


def test_normalize_straightens_quotes_and_spaces() -> None:
    assert normalize("Iraq\u2018s \u201cfoo\u201d  bar\u00a0baz") == "Iraq's \"foo\" bar baz"
    assert flatten("a\n\n b\t c") == "a b c"


@pytest.fixture(scope="module")
def seed_docs() -> dict[str, str]:
    docs, skipped = read_corpus(SEED_CORPUS)
    assert skipped == []
    return {d.source_id: d.text for d in docs}


@pytest.mark.parametrize("noise", NOISE)
def test_boilerplate_is_removed(seed_docs: dict[str, str], noise: str) -> None:
    assert not [sid for sid, text in seed_docs.items() if noise in text]


def _body_sentences(path: Path) -> list[str]:
    """Raw lines that read as body prose: long, ending like a sentence, not a caption."""
    lines = [flatten(line) for line in path.read_text(encoding="utf-8").split("\n")]
    return [
        line for line in lines
        if len(line.split()) >= 12 and line.endswith((".", '."', ".'", "?", ":"))
        and not line.startswith(("©", "This handout")) and not any(noise in line for noise in NOISE)
    ]


@pytest.mark.parametrize("path", sorted(SEED_CORPUS.glob("*.txt")), ids=lambda p: p.stem[:3])
def test_every_body_sentence_is_kept(seed_docs: dict[str, str], path: Path) -> None:
    body = _body_sentences(path)
    assert len(body) >= 10
    text = flatten(seed_docs[path.stem])
    assert [line for line in body if line not in text] == []


def test_header_block_becomes_metadata() -> None:
    raw = (
        "Storm hits coast ...\nSource: CNN\nURL: https://example.com/storm\nPublished: 2024-01-05\n"
        "Authors: Jane Doe\n\nCNN -\n\nA storm hit the coast on Friday, officials said.\n"
    )
    doc = parse_article(raw, "cnn-1")
    assert doc is not None
    assert (doc.title, doc.outlet, doc.date, doc.url, doc.authors) == (
        "Storm hits coast ...", "CNN", "2024-01-05", "https://example.com/storm", "Jane Doe"
    )
    assert doc.text == "A storm hit the coast on Friday, officials said."


def test_manifest_gives_titles_and_only_known_outlets(seed_docs: dict[str, str]) -> None:
    docs = {d.source_id: d for d in read_corpus(SEED_CORPUS)[0]}
    assert docs["001_b9b850b8616dede0"].outlet == "Sputnik International"
    assert docs["002_5b7b7d05eade649a"].outlet == "Press TV"
    assert docs["000_e51b5d969b07c07d"].outlet is None
    assert docs["000_e51b5d969b07c07d"].title == "Iran looks to shift blame for Iraqi assassination attempt to U.S."
    assert not docs["000_e51b5d969b07c07d"].text.startswith("Iran looks to shift blame")
