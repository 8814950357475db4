"""Who makes a claim: the reported-speech grammar, the labels answers use, and its accuracy on hand labels."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant import Assistant
from assistant.attribution import claim_label, passage_speaker, source_name, speaker
from assistant.models import Passage

FIXTURE = Path(__file__).parent / "fixtures" / "speakers.yaml"
CORPUS = Path(__file__).resolve().parent.parent / "corpus"
# Share of the hand-labelled sentences whose speaker is read right: 0.728 on the first run against the labels,
# 0.854 after fixing the grammar for the shapes it missed (verb forms, passives, quotations continued). A floor
# against regressions; the misses left are listed by `python -m assistant.evaluation.pairs`.
SPEAKER_ACCURACY = 0.85


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Iran's foreign ministry spokesman Saeed Khatibzadeh said the attack was a plot.",
         "Iran's foreign ministry spokesman Saeed Khatibzadeh"),
        ("The attack was a plot, Saeed Khatibzadeh said.", "Saeed Khatibzadeh"),
        ('"It was a plot," said Saeed Khatibzadeh, the spokesman.', "Saeed Khatibzadeh"),
        ("According to the interior ministry, three drones were launched.", "the interior ministry"),
        ("Mr. Kadhimi, who addressed the nation on television, said he wasn't hurt.", "Mr. Kadhimi"),
        ("A senior official, Maj. Gen. Saad Maan, said three drones attacked.", "Maj. Gen. Saad Maan"),
        ("Gen. Frank McKenzie, the head of US Central Command, blamed the attack on militias.",
         "Gen. Frank McKenzie, the head of US Central Command"),
        ("IRNA said Iranian Foreign Ministry spokesman Saeed Khatibzadeh framed the incident as a plot.",
         "Iranian Foreign Ministry spokesman Saeed Khatibzadeh"),
        ("Kadhimi was accused by pro-Iran groups of overseeing fraud.", "pro-Iran groups"),
        # a subordinate clause before the subject is not part of it (was read as "President Biden took office, ...")
        ("Since President Biden took office, the Pentagon has acknowledged other U.S. strikes.", "the Pentagon"),
        ("When the drones struck, Iraqi officials said the premier was not at home.", "Iraqi officials"),
    ],
)
def test_reported_speech_names_its_speaker(sentence: str, expected: str) -> None:
    assert speaker(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "Three drones were launched toward the residence in the Green Zone.",
        "There was no immediate claim of responsibility for the attack.",
        "No group has claimed responsibility for the attack.",
        "The groups are accused of attacks on U.S. personnel.",  # a passive with nobody named
        "Photo showing damage to the residence, calling attention to the blast.",
    ],
)
def test_narration_has_no_speaker(sentence: str) -> None:
    assert speaker(sentence) is None


def test_he_said_is_the_speaker_of_the_sentence_before() -> None:
    text = ("Muhammad al-Baldawi, a member of the Fatah alliance, said the US was behind it. "
            "He said cameras near the embassy caught the incident.")
    passage = Passage(chunk_id="c", source_id="s", title="T", text=text)
    found = passage_speaker("He said cameras near the embassy caught the incident.", passage)
    assert found == "Muhammad al-Baldawi, a member of the Fatah alliance"  # the name, with the role after it


def test_a_quotation_without_attribution_goes_on_from_the_one_before() -> None:
    context = '"We will find them," the president said. '
    assert speaker('"They will pay."', context) == "the president"


def test_sources_are_named_plainly_never_by_a_cut_headline() -> None:
    assert source_name("000_e51b5d969b07c07d", None) == "article 000"
    assert source_name("my-notes", None) == "article my-notes"
    assert source_name("001_b9b850b8616dede0", "Sputnik International") == "Sputnik International"
    sputnik = claim_label(["Sputnik International"], "Saeed Khatibzadeh")
    assert sputnik == "Sputnik International, citing Saeed Khatibzadeh"
    assert claim_label(["Press TV"], "a spokesman for Fatah") == "Press TV, citing a spokesman for Fatah"
    assert speaker("A spokesman for Fatah said the US was to blame.") == "a spokesman for Fatah"
    assert claim_label(["Press TV", "Press TV"], None) == "Press TV"


def test_speakers_match_the_hand_labels() -> None:
    items = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    assert len(items) >= 40
    right = 0
    for item in items:
        text = (CORPUS / f"{item['source']}.txt").read_text(encoding="utf-8-sig")
        at = text.find(item["text"])
        assert at >= 0, f"fixture sentence not verbatim in {item['source']}: {item['text'][:60]}"
        got = speaker(item["text"], text[:at])
        if item["speaker"] is None:
            right += got is None
        else:
            right += got is not None and any(a.lower() in got.lower() for a in item["accept"])
    assert right / len(items) >= SPEAKER_ACCURACY, f"{right}/{len(items)}"


@pytest.mark.integration
def test_a_spokesman_quoted_by_sputnik_is_his_claim_carried_by_sputnik(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("What did Iran's foreign ministry spokesman say?")
    sputnik = [c for c in answer.citations if c.outlet == "Sputnik International"]
    assert sputnik and all("Khatibzadeh" in (c.speaker or "") for c in sputnik)
    line = next(line for line in answer.text.split("\n") if f"[{sputnik[0].marker}]" in line)
    assert line.lstrip("- ").startswith("Sputnik International, citing ") and "Khatibzadeh" in line.split(":")[0]
    # an article with no known outlet is named plainly, not by a cut headline
    assert not any("..." in line.split(":")[0] for line in answer.text.split("\n"))


def test_a_clause_is_not_a_speaker_and_a_politician_speaks() -> None:
    # was read as "the US military would target them and" (a clause after "adding it is possible that")
    sentence = ('"They know all Iraqi military and political officials; therefore, all of them are in danger," said '
                "the politician, adding it is possible that the US military would target them and then accuse Iraqi "
                "groups of being involved.")
    assert speaker(sentence) == "the politician"
    assert speaker("The militia will claim the attack, analysts said.") == "analysts"
