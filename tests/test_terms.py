"""Which words of a question are its terms."""

from __future__ import annotations

from assistant.terms import content_terms


def test_the_frame_of_an_event_question_is_no_term() -> None:
    # "happen", "occur", "take place" ask about the event named, they are not what it is called: a pool without
    # the word "happen" does not lack the answer
    assert content_terms("When did the attack happen?") == ["attack"]
    assert content_terms("Where did the show take place?") == ["show"]
    assert content_terms("Where did the crash occur?") == ["crash"]
    assert "place" in content_terms("Which place did the team take?")
