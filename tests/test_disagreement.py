"""Where sources disagree: sides read from quotes, conflicts found, and answers that show both sides."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import Assistant
from assistant.disagreement import Sides, differ_line, predicate_forms
from assistant.embeddings import MiniLMEmbedder
from assistant.evaluation.pairs import score_pairs
from assistant.features import VectorCache
from assistant.generation import ground
from assistant.models import Answer, Citation, Disagreement, Passage, Position
from assistant.questions import Question
from assistant.terms import canonical

# The detector on the hand-labelled pairs (tests/fixtures/disagreement_pairs.yaml, written blind): precision 0.556
# and recall 0.208 on its first run, 0.692 and 0.375 after adding the culprit shapes it missed. The targets are
# 0.85 each; these floors only guard against regressions (see the README for what it cannot read yet).
PAIR_PRECISION = 0.69
PAIR_RECALL = 0.37

THREE = "Officials said three drones attacked the prime minister's residence."
AT_LEAST_TWO = "At least two quadcopter drones armed with explosives targeted his home."
ALSO_THREE = "Subsequent reports indicated 3 drones were launched toward his residence."


def _no_embedding(texts: list[str]) -> dict[str, np.ndarray]:
    raise AssertionError("counts are compared without embeddings")


def cite(marker: int, source: str, quote: str) -> Citation:
    return Citation(marker=marker, source_id=source, title=f"Title {source}", quote=quote)


@pytest.fixture(scope="module")
def sides(minilm: MiniLMEmbedder) -> Sides:
    return Sides(VectorCache(minilm).get)


def test_counts_of_the_thing_asked_about_are_sides() -> None:
    sides = Sides(_no_embedding)
    question = Question.of("How many drones were used?")
    assert [s.text for s in sides.of(question, THREE)] == ["three"]
    assert [s.text for s in sides.of(question, AT_LEAST_TWO)] == ["at least two"]
    assert sides.of(question, "A drone attack shook the Green Zone.") == []  # "drone attack" counts attacks
    assert sides.of(question, "An explosive-laden drone struck his residence.") == []  # not a count of all used
    assert sides.conflict(question, THREE, AT_LEAST_TWO)
    assert not sides.conflict(question, THREE, "Iraq's interior ministry said three drones were involved.")


def test_a_count_is_read_whole_and_compared_by_value() -> None:
    sides = Sides(_no_embedding)
    troops = Question.of("About how many American troops were in Iraq?")
    estimate = "Washington was estimated to have about 2,500 troops in the country at the time."
    assert [s.text for s in sides.of(troops, estimate)] == ["about 2,500"]  # not a 2 and a 500
    assert sides.disagreements(troops, [cite(1, "a", estimate)]) == []  # so one quote does not differ from itself
    drones = Question.of("How many drones were used?")
    assert not sides.conflict(drones, THREE, ALSO_THREE)  # "three" and "3" are one count
    assert sides.conflict(drones, ALSO_THREE, AT_LEAST_TWO)


def test_disagreements_group_the_citations_by_side() -> None:
    sides = Sides(_no_embedding)
    citations = [cite(1, "a", THREE), cite(2, "b", AT_LEAST_TWO), cite(3, "c", "Three drones were launched.")]
    [differ] = sides.disagreements(Question.of("How many drones were used?"), citations)
    assert differ.kind == "number"
    assert [(p.claim, p.markers) for p in differ.positions] == [("three", [1, 3]), ("at least two", [2])]
    assert differ_line(differ) == "Sources differ: three [1][3]; at least two [2]."
    # one source alone is no disagreement
    assert sides.disagreements(Question.of("How many drones were used?"), citations[:1]) == []


def test_a_question_about_one_partys_claim_compares_nothing() -> None:
    # "Who did Iran blame?" asks what Iran says, not how the sources compare
    assert Sides(_no_embedding).of(Question.of("Who did Iran blame?"), "Iran blamed the U.S. for the attack.") == []


@pytest.mark.parametrize(("question", "one"), [
    ("Who did CENTCOM's commander say was responsible for the drone attack?", True),
    ("According to the Iranians, who was behind the attack?", True),
    ("Which American general blamed the attack on someone, and on whom?", True),
    ("How many drones did the interior ministry say were involved?", True),
    ("Who was behind the attack?", False),
    ("Who was blamed for the attack?", False),  # the blame itself, from whoever
    ("Who do the outlets say was behind the attack?", False),  # every outlet's account is asked for
    ("According to the articles, who was behind it?", False),
    ("Who claimed responsibility for the attack?", False),  # a deed, not a claim
])
def test_a_question_may_ask_for_one_partys_account(question: str, one: bool) -> None:
    assert Question.of(question).one_account is one


def test_accounts_asked_for_one_party_are_not_shown_as_differing() -> None:
    sides = Sides(_no_embedding)
    citations = [cite(1, "a", THREE), cite(2, "b", AT_LEAST_TWO)]
    ministry = Question.of("How many drones did the interior ministry say were involved?")
    assert sides.conflicts(ministry, citations)  # the accounts do conflict...
    assert sides.disagreements(ministry, citations) == []  # ...but the question asks for the ministry's alone
    assert sides.disagreements(Question.of("How many drones were involved?"), citations)


def test_only_nouns_verbs_and_adjectives_bring_their_wordnet_relatives() -> None:
    # "behind" is a preposition; its first noun sense (the buttocks) would bring "seat"
    question = Question.of("Did Kata'ib Hezbollah deny being behind the drone strike?")
    seats = "The Fatah coalition saw their seats decrease from 47 to about 20."
    asked = predicate_forms(question, frozenset([seats]))
    assert canonical("seat") not in asked and canonical("behind") in asked
    assert canonical("denial") in asked  # "deny", a verb, still brings its relatives
    assert Sides(_no_embedding).of(question, seats) == []


@pytest.mark.integration
def test_a_yes_or_no_needs_a_quote_that_speaks_to_what_is_asked(sides: Sides) -> None:
    hurt = Question.of("Was al-Kadhimi hurt in the attack?")
    assert sides.of(hurt, "Mr. Kadhimi, who addressed the nation, said he wasn\u2019t hurt.")[0].key == "no"
    # the quote's own words that give the side, verbatim: the negation through the asked-about word
    assert sides.of(hurt, "He was not seriously hurt, officials said.")[0].says == "not seriously hurt"
    assert sides.of(hurt, "Mr. al-Kadhimi suffered only a light cut on his hand.")[0].says == "a light cut"
    assert sides.of(hurt, "Kadhimi escaped unhurt from the attempt.")[0].key == "no"
    assert sides.of(hurt, "The military said Kadhimi was unharmed in the attack.")[0].key == "no"  # harm: a synonym
    # a cut is a wound, a wound an injury: WordNet's kinds of hurt say yes
    assert sides.of(hurt, "Mr. al-Kadhimi suffered only a light cut on his hand in the attack.")[0].key == "yes"
    # sharing the topic is no answer: before, any quote without a negation read as "yes"
    assert sides.of(hurt, "An explosive-laden drone attacked the residence of Mustafa al-Kadhimi.") == []
    # a negation about something else is no answer either
    off = "Iraqi President Bahram Salih said the government would not accept dragging Iraq into chaos."
    assert sides.of(hurt, off) == []
    # a bandage is no word for being hurt: what it implies is left to the reader, who sees the quote
    assert sides.of(hurt, "Mr. al-Kadhimi appeared on television with a bandage on his left hand.") == []


@pytest.mark.integration
def test_a_quantified_subject_is_not_what_is_asked(sides: Sides) -> None:
    # "any group" is who would have taken credit; a quote about militia groups says nothing about credit
    credit = Question.of("Did any group take credit for the drone strike?")
    assert sides.of(credit, "The attack stoked tensions with Iran-backed militia groups.") == []
    denial = "The armed groups denied responsibility and no one immediately claimed credit."
    assert sides.of(credit, denial)[0].key == "no"


@pytest.mark.integration
def test_the_topic_all_quotes_share_is_not_what_is_asked(sides: Sides) -> None:
    downed = Question.of("Were any of the drones shot down?")
    shot = "Two of the drones were shot down by security forces."
    away = "Kadhimi was not at home during the drone strike."
    assert sides.of(downed, shot, [away])[0].key == "yes"
    assert sides.of(downed, away, [shot]) == []  # "not" is about being at home, and drones are the topic


@pytest.mark.integration
def test_named_sides_are_compared_by_meaning(sides: Sides) -> None:
    who = Question.of("Who was behind the attack?")
    both = ("Iran insinuated the U.S. was behind the attack, despite evidence suggesting the attack was carried out "
            "by Tehran-backed militias.")
    assert [s.text for s in sides.of(who, both)] == ["U.S.", "Tehran-backed militias"]
    general = 'Gen. Frank McKenzie blamed the attack on "Iranian-backed militia" earlier this week.'
    assert not sides.conflict(who, both, general)  # the militia side is shared
    assert sides.conflict(who, "Iran suggested that the United States and its allies were behind the attack.",
                          general)


@pytest.mark.integration
def test_detector_on_the_hand_labelled_pairs(sides: Sides) -> None:
    score = score_pairs(sides)
    assert score.tp + score.fn >= 18 and score.fp + score.tn >= 18
    assert score.precision >= PAIR_PRECISION and score.recall >= PAIR_RECALL, score


def test_ground_keeps_only_sides_that_are_still_cited() -> None:
    passages = [Passage(chunk_id="a#0", source_id="a", title="A", text=THREE),
                Passage(chunk_id="b#0", source_id="b", title="B", text=AT_LEAST_TWO)]
    differ = Disagreement(point="How many drones were used?", kind="number",
                          positions=[Position(claim="three", markers=[1]), Position(claim="at least two", markers=[2])])
    answer = Answer(text="Sources differ: three [1]; at least two [2].\n- A: x [1]\n- B: y [2]",
                    citations=[cite(1, "a", THREE), cite(2, "b", "Not in the article.")], disagreements=[differ])
    grounded = ground(answer, passages)
    assert [c.marker for c in grounded.citations] == [1]
    assert grounded.disagreements == []  # one side left is no disagreement
    assert ground(answer.model_copy(update={"citations": [cite(1, "a", THREE), cite(2, "b", AT_LEAST_TWO)]}),
                  passages).disagreements == [differ]


@pytest.mark.integration
def test_who_was_behind_it_shows_both_sides(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("Who was behind the attack?")
    [differ] = answer.disagreements
    claims = " | ".join(p.claim for p in differ.positions)
    assert "U.S." in claims and "militia" in claims
    assert answer.lead is not None and answer.lead.startswith("Sources differ: ")
    for position in differ.positions:  # each side is cited to an article whose quote says it (in its words)
        assert position.claim.lower() in answer.citations[min(position.markers) - 1].quote.lower()
    militia = next(p for p in differ.positions if "militia" in p.claim)
    assert all("militia" in answer.citations[m - 1].quote.lower() for m in militia.markers)


@pytest.mark.integration
def test_the_per_source_view_has_a_line_per_article(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("How many drones were used?", by_source=True)
    lines = [line for line in answer.text.split("\n") if line.startswith("- ")]
    cited = [c.source_id for c in answer.citations]
    assert len(cited) == len(set(cited)) == len(lines)  # one quote and one line per article
    assert len(cited) + len(answer.silent) == 5  # every seed article is either quoted or named as silent
    named = {"Sputnik International", "Press TV"}
    assert named <= {c.outlet for c in answer.citations} | set(answer.silent)
    if answer.silent:
        assert answer.text.split("\n")[-1] == f"Nothing on this in: {', '.join(answer.silent)}."
    assert real_assistant.retrieve("How many drones were used?", by_source=True)
