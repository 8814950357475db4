"""Property-based tests (hypothesis): the cleaner, the chunker, grounding and the question readers hold on
arbitrary text."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.chunking import chunk_document
from assistant.corpus import parse_article
from assistant.generation import ground
from assistant.models import Answer, Citation, Passage
from assistant.questions import Question, counted_noun
from assistant.sentences import split_sentences
from assistant.terms import question_subject
from assistant.text import clean_lines, flatten

# Words, punctuation, quotes, non-Latin script, control characters and line breaks: what scraped pages contain.
WORD = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
SENTENCE = st.lists(WORD, min_size=1, max_size=25).map(" ".join).map(lambda s: s + ".")
ARTICLE = st.lists(st.one_of(SENTENCE, WORD, st.just(""), st.just("\r\n")), min_size=1, max_size=40).map("\n".join)
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def words(text: str) -> int:
    return len(text.split())


@FAST
@given(ARTICLE)
def test_cleaning_never_crashes_and_keeps_no_empty_line(raw: str) -> None:
    lines = clean_lines(raw)
    assert all(line and line == line.strip() for line in lines)
    doc = parse_article(raw, "prop")
    if doc is not None:
        assert doc.text.strip() and "\r" not in doc.text


@FAST
@given(ARTICLE, st.integers(min_value=40, max_value=256))
def test_every_sentence_of_a_body_lands_in_a_chunk_that_fits(raw: str, max_tokens: int) -> None:
    doc = parse_article(raw, "prop")
    if doc is None:
        return
    try:
        chunks = chunk_document(doc, words, max_tokens)
    except ValueError:
        assert words(doc.title) + 2 > max_tokens - 16  # only a title too long for the window is refused
        return
    covered = flatten(" ".join(c.text for c in chunks))
    for sent in split_sentences(doc.text):
        assert flatten(sent.text) in covered
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text  # a chunk is a verbatim span of the body
        assert words(c.embed_text) + 2 <= max_tokens or words(c.text) == 1  # fits (a lone overlong word aside)


PASSAGES = [Passage(chunk_id="a#0", source_id="a", title="A", text="Three drones were launched. Two were shot down."),
            Passage(chunk_id="b#0", source_id="b", title="B", text="Iran blamed the United States.")]
QUOTES = st.sampled_from(["Three drones were launched.", "Two were shot down.", "Iran blamed the United States.",
                          "Aliens did it.", "Three drones", ""])


@FAST
@given(st.lists(st.tuples(QUOTES, st.sampled_from(["a", "b", "c"])), min_size=1, max_size=5), st.booleans())
def test_grounded_answers_cite_only_verbatim_quotes_and_match_their_markers(
    cited: list[tuple[str, str]], lead: bool
) -> None:
    citations = [Citation(marker=i, source_id=src, title="T", quote=q) for i, (q, src) in enumerate(cited, start=1)]
    lines = [f"- claim {i} [{i}]" for i in range(1, len(cited) + 1)]
    text = "\n".join(([f"short [{1}]"] if lead else []) + lines)
    answer = ground(Answer(text=text, citations=citations, lead=f"short [{1}]" if lead else None), PASSAGES)
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.marker for c in answer.citations}
    for c in answer.citations:
        assert c.quote and any(c.quote in p.text for p in PASSAGES if p.source_id == c.source_id)
    if not answer.found:
        assert answer.citations == [] and answer.text == "The articles don't say."


# Question-shaped text: question words, auxiliaries, names with and without "'s", the "of" that joins names and
# words that begin like it, counts, and anything else. A reader that raises here cannot answer the question.
QUESTION_WORD = st.one_of(
    st.sampled_from(["Who", "What", "Which", "When", "Where", "Why", "How", "How many", "According to", "did",
                     "has", "was", "is", "will", "the", "a", "of", "often", "officially", "off", "of the", "Iran",
                     "Iran's", "Prime", "Minister", "al-Kadhimi", "Kadhimi's", "U.S.", "say", "said", "blame",
                     "drones", "name", "3", "?", "'s", ",", "’s", "\"", "-", "name of the"]),
    WORD,
)
QUESTION = st.tuples(
    st.sampled_from(["", "Who", "What", "Which", "How many", "When"]),
    st.sampled_from(["", "did", "has", "was", "will"]),
    st.lists(QUESTION_WORD, min_size=1, max_size=12),
).map(lambda parts: " ".join([parts[0], parts[1], *parts[2]]).strip())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUESTION)
def test_the_question_readers_never_crash(text: str) -> None:
    question = Question.of(text)
    assert isinstance(question.focus, str | None) and isinstance(question.one_account, bool)
    assert isinstance(question.known, frozenset) and isinstance(question_subject(text), set)
    assert counted_noun(text) is None or isinstance(counted_noun(text), str)
