"""Follow-ups are resolved once, upstream: only a question that needs the previous turn borrows from it."""

from __future__ import annotations

import pytest

from assistant.conversation import Query, is_followup, resolve
from assistant.models import Message


def turn(question: str, reply: str) -> list[Message]:
    return [Message(role="user", content=question), Message(role="assistant", content=reply)]


SPOKESMAN = turn("What did their foreign ministry spokesman say?",
                 "Iran's foreign ministry spokesman Saeed Khatibzadeh said such incidents serve outsiders. [1]")
IRAN_BLAME = turn("Who did Iran blame?", "The United States [1]\n- Sputnik International: Iran said ... [1]")


@pytest.mark.parametrize(
    ("question", "history"),
    [
        # Short, self-contained questions after an unrelated turn stand alone (they used to get the previous
        # question glued on because they were under four words).
        ("Was al-Kadhimi hurt?", SPOKESMAN),
        ("How many drones were used?", SPOKESMAN),
        ("Who is Qais al-Khazali?", IRAN_BLAME),
        ("Drones used?", IRAN_BLAME),
        # A relative "that" is not a reference to the previous answer.
        ("What did Biden say about the attack that targeted Kadhimi?", IRAN_BLAME),
        ("Did Iran also blame Israel?", SPOKESMAN),
        ("Is it true that Iran blamed the US?", SPOKESMAN),
        ("What did the militias say they would do?", SPOKESMAN),
    ],
)
def test_self_contained_questions_stand_alone(question: str, history: list[Message]) -> None:
    query = resolve(question, history)
    assert query == Query.plain(question)
    assert not query.followup


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("What position does he hold?",
         turn("Did any other Iraqi leaders express relief that the prime minister was unhurt?",
              "Yes. Nechirvan Barzani slammed the attack. [1]"),
         "What position does Nechirvan Barzani hold?"),
        ("What did he call for?",
         turn("Did any Iranian military commander go to Baghdad after the attack?",
              "Yes. The head of Iran's Quds Force, Gen. Esmail Qa'ani, paid a surprise visit to Baghdad. [1]"),
         "What did Esmail Qa'ani call for?"),
        # The referent can be in the previous question when the reply names no one new.
        ("Which president authorized the strike that killed him?",
         turn("Who was Qassim Soleimani?", "Qassim Soleimani was an Iranian general. [1]"),
         "Which president authorized the strike that killed Qassim Soleimani?"),
    ],
)
def test_personal_pronouns_take_the_name_from_the_previous_turn(
    question: str, history: list[Message], expected: str
) -> None:
    query = resolve(question, history)
    assert query.followup and query.form == expected
    assert query.text == f"{expected} {history[0].content}"  # the previous question keeps the topic for retrieval


@pytest.mark.parametrize(
    ("question", "history"),
    [
        ("What is his name?", turn("What did Iran's foreign ministry spokesman say about the attack?",
                                   "Iran's foreign ministry spokesman said: \"Such incidents ...\" [1]")),
        ("What did their foreign ministry spokesman say?", IRAN_BLAME),
        ("And the other one?", IRAN_BLAME),
        ("What about Press TV?", IRAN_BLAME),
        ("Who said that?", IRAN_BLAME),
        ("Who launched them?", turn("How many drones were used?", "Three [1]")),
    ],
)
def test_followups_without_a_name_carry_the_previous_question(question: str, history: list[Message]) -> None:
    query = resolve(question, history)
    assert query.followup
    assert query.text == f"{history[0].content} {question}"
    assert query.form == question  # the wording asked now says what kind of answer is wanted


def test_possessive_pronoun_becomes_a_possessive_name() -> None:
    history = turn("Who leads Asaib Ahl al-Haq?", "Qais al-Khazali leads it. [1]")
    assert resolve("What was his reaction to the attack?", history).form == (
        "What was Qais al-Khazali's reaction to the attack?"
    )


def test_a_role_noun_before_a_subject_pronoun_is_its_referent() -> None:
    assert not is_followup("Did the spokesman say he supported an investigation?")
    assert is_followup("When did he serve as ambassador?")


def test_no_history_means_no_followup() -> None:
    assert resolve("What is his name?", []) == Query.plain("What is his name?")
