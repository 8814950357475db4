"""Questions about the sources: the outlets they name and whether they compare sources, with the rest kept plain."""

from __future__ import annotations

import pytest

from assistant.conversation import Query
from assistant.scope import named_outlets, scope

OUTLETS = ["Sputnik International", "Press TV"]


@pytest.mark.parametrize(
    ("question", "form", "outlets", "by_source"),
    [
        ("Do the outlets disagree about who was behind the attack?", "Who was behind the attack?", [], True),
        ("Do the sources agree on how many drones there were?", "How many drones there were?", [], True),
        ("According to Sputnik, who was responsible?", "Who was responsible?", ["Sputnik International"], False),
        # nothing left to ask once the wording about the source is gone: the question stays as typed
        ("How does Sputnik's account differ?", "How does Sputnik's account differ?", ["Sputnik International"], True),
    ],
)
def test_wording_about_sources_is_read_and_taken_out(
    question: str, form: str, outlets: list[str], by_source: bool
) -> None:
    query = scope(Query.plain(question), OUTLETS)
    assert (query.form, query.outlets, query.by_source) == (form, outlets, by_source)
    assert query.asked == question


def test_a_question_not_about_the_sources_is_unchanged() -> None:
    query = Query.plain("Who did Iran blame?")
    assert scope(query, OUTLETS) is query


def test_outlets_are_named_by_full_name_or_a_distinctive_first_word() -> None:
    assert named_outlets("what did press tv report?", OUTLETS) == ["Press TV"]
    assert named_outlets("Did Sputnik say the US did it?", OUTLETS) == ["Sputnik International"]
    # "Press" alone is too common a word to stand for Press TV
    assert named_outlets("What did the press say?", OUTLETS) == []
    assert named_outlets("What did Reuters say?", OUTLETS) == []
