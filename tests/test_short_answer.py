"""Short-answer scores (lead EM/F1, multiple choice, length, false refusals) on hand-made answers: no model needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation import rtqa, short_answer
from assistant.evaluation.gold import EvalFileError
from assistant.evaluation.scorers import Check
from assistant.models import Answer, Citation

GOLD = ["Alaska Airlines"]
CHOICES = ["United Airlines", "Southwest Airlines", "Alaska Airlines", "Delta Air Lines"]
EVIDENCE = "usat-1"


def reply(lead: str | None, body: str = "", *, source: str = EVIDENCE, found: bool = True) -> Answer:
    """An answer whose first line is `lead` (when given), citing `source` as [1]."""
    text = "\n".join(part for part in (lead, body) if part) or "The articles don't say."
    cites = [Citation(marker=1, source_id=source, title="t", quote="q")] if found else []
    return Answer(text=text, citations=cites, found=found, lead=lead)


REFUSED = Answer(text="The articles don't say.", found=False)


def question(i: int = 0, **fields: object) -> rtqa.RTQAQuestion:
    """A benchmark question about the door-plug blowout, with choices."""
    base: dict[str, object] = {
        "id": f"rtqa-{i}", "question": "Which airline?", "question_dated": "(Asked on 2024-01-12) Which airline?",
        "answers": GOLD, "evidence_docs": [EVIDENCE], "type": "organization", "time_sensitive": True,
        "choices": CHOICES, "answer_index": 2,
    }
    return rtqa.RTQAQuestion.model_validate({**base, **fields})


# ------------------------------------------------------------------ normalisation


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("The  Alaska Airlines.", "alaska airlines"),
        ("An apple, a pear & THE plum!", "apple pear plum"),
        ("\u201cThe Godfather\u201d", "godfather"),  # curly quotes are punctuation too
        ("Theater in Athens", "theater in athens"),  # articles only as whole words
        ("84-82", "8482"),  # SQuAD drops the hyphen; gold and lead are normalised alike
    ],
)
def test_normalize_answer_is_squad_style(raw: str, normalised: str) -> None:
    assert short_answer.normalize_answer(raw) == normalised


def test_markers_are_removed_before_scoring() -> None:
    assert short_answer.strip_markers("Three drones [1][2]").split() == ["Three", "drones"]
    assert short_answer.answer_tokens("Three drones [1, 2].") == ["three", "drones"]
    assert short_answer.answer_tokens("In 2024 [3]") == ["in", "2024"]


# ------------------------------------------------------------------ exact match and token F1


def test_exact_match_ignores_markers_case_and_articles() -> None:
    assert short_answer.lead_exact_match(reply("Alaska Airlines [1]"), GOLD) == 1.0
    assert short_answer.lead_exact_match(reply("the alaska airlines. [1][2]"), GOLD) == 1.0
    assert short_answer.lead_exact_match(reply("Alaska Airlines flight [1]"), GOLD) == 0.0
    assert short_answer.exact_match("7 million dollars", ["$7 million", "7 million dollars"]) == 1.0


def test_token_f1_gives_partial_credit() -> None:
    # "the Alaska Airlines flight" -> [alaska, airlines, flight]: precision 2/3, recall 1, F1 0.8
    f1 = short_answer.lead_f1(reply("the Alaska Airlines flight [1]"), GOLD)
    assert f1 == pytest.approx(0.8)
    assert 0 < f1 < 1
    assert short_answer.lead_f1(reply("Alaska Airlines [1]"), GOLD) == 1.0
    assert short_answer.lead_f1(reply("Delta [1]"), GOLD) == 0.0
    # Repeated tokens only count as often as the gold has them: [airlines, airlines] vs [alaska, airlines].
    assert short_answer.token_f1("Airlines airlines", GOLD) == pytest.approx(0.5)


def test_the_best_gold_answer_counts() -> None:
    golds = ["Minnesota Gov. Tim Walz", "Tim Walz"]
    assert short_answer.exact_match("Tim Walz [1]", golds) == 1.0
    assert short_answer.token_f1("Walz [1]", golds) == pytest.approx(2 / 3)


def test_a_missing_lead_or_a_refusal_scores_zero() -> None:
    no_lead = reply(None, "Alaska Airlines grounded its planes. [1]")
    assert short_answer.lead_exact_match(no_lead, GOLD) == 0.0 and short_answer.lead_f1(no_lead, GOLD) == 0.0
    refused_with_lead = Answer(text="Alaska Airlines", lead="Alaska Airlines", found=False)
    assert short_answer.lead_exact_match(refused_with_lead, GOLD) == 0.0
    assert short_answer.lead_f1(refused_with_lead, GOLD) == 0.0
    assert short_answer.exact_match(None, GOLD) == 0.0 and short_answer.token_f1(None, GOLD) == 0.0
    assert short_answer.token_f1("[1]", GOLD) == 0.0  # a lead of markers alone is empty


# ------------------------------------------------------------------ multiple choice


def test_the_lead_picks_its_best_matching_choice() -> None:
    assert short_answer.pick_choice(reply("Alaska Airlines [1]"), CHOICES) == 2
    assert short_answer.choice_correct(reply("Alaska Airlines [1]"), CHOICES, 2) is True
    assert short_answer.pick_choice(reply("Delta [1]"), CHOICES) == 3
    assert short_answer.choice_correct(reply("Delta [1]"), CHOICES, 2) is False
    # "Airlines" ties United, Southwest and Alaska; the rest of the answer names Alaska.
    tied = reply("The airlines [1]", "Alaska grounded its Boeing 737 MAX 9 jets. [1]")
    assert short_answer.pick_choice(tied, CHOICES) == 2


def test_without_a_lead_the_whole_text_decides_then_the_order() -> None:
    assert short_answer.pick_choice(reply(None, "Southwest was not involved. [1]"), CHOICES) == 1
    assert short_answer.pick_choice(reply("Nobody knows [1]"), CHOICES) == 0  # no overlap at all: the first


def test_a_refusal_picks_nothing_and_questions_without_choices_are_left_out() -> None:
    assert short_answer.pick_choice(REFUSED, CHOICES) is None
    assert short_answer.choice_correct(REFUSED, ["Alaska Airlines", "Delta"], 0) is False
    assert short_answer.choice_correct(reply("Alaska Airlines [1]"), [], None) is None
    assert short_answer.choice_correct(reply("Alaska Airlines [1]"), CHOICES, None) is None


# ------------------------------------------------------------------ length and summaries


def test_word_count_ignores_markers_and_bullets() -> None:
    assert short_answer.word_count("Three drones [1][2]\n- usat: the attack [1] - it's over.") == 7
    assert short_answer.word_count("[1]") == 0


def test_summarize_answers_computes_every_aggregate() -> None:
    questions = [question(0), question(1), question(2, choices=[], answer_index=None), question(3)]
    answers = [
        reply("Alaska Airlines [1]", "It grounded 171 jets. [1]"),  # right: EM 1, MC right, 6 words
        reply("the Alaska Airlines flight [1]", source="cnn-9"),  # no evidence cited: not accurate
        reply("Delta [1]"),  # wrong; no choices, so not in the MC rate
        REFUSED,
    ]
    s = rtqa.summarize_answers(questions, answers)
    assert s.n == 4
    assert s.accuracy == pytest.approx(1 / 4)
    assert s.lead_em == pytest.approx(1 / 4)
    assert s.lead_f1 == pytest.approx((1 + 0.8 + 0 + 0) / 4)
    assert (s.mc_n, s.mc_accuracy) == (3, pytest.approx(2 / 3))  # refusal counts as a wrong pick
    assert s.median_words == 4.0  # words 6, 4, 1, 4
    assert s.false_refusal == pytest.approx(1 / 4)


def test_summaries_of_nothing_and_mismatched_inputs() -> None:
    empty = rtqa.summarize_answers([], [])
    assert (empty.n, empty.accuracy, empty.mc_accuracy, empty.median_words) == (0, 0.0, None, 0.0)
    with pytest.raises(ValueError, match="2 questions but 1 answers"):
        rtqa.summarize_answers([question(0), question(1)], [REFUSED])


def test_answer_rows_group_like_the_benchmark_without_retrieval() -> None:
    questions = [question(0), question(1, time_sensitive=False, type="person", answers=["Tim Walz"],
                                        choices=["Tim Walz", "JD Vance"], answer_index=0)]
    answers = [reply("Alaska Airlines [1]"), reply("Vance [1]")]
    rows = {r.group: r for r in rtqa.answer_rows(questions, answers)}
    assert list(rows) == ["all", "time-sensitive", "not time-sensitive", "type: organization", "type: person"]
    assert rows["all"].lead_em == 0.5 and rows["all"].mc_accuracy == 0.5 and rows["all"].in_context is None
    assert rows["time-sensitive"].mc_accuracy == 1.0 and rows["type: person"].lead_f1 == 0.0
    table = rtqa.format_rows(list(rows.values()))
    assert "lead EM" in table and "MC acc" in table


# ------------------------------------------------------------------ the benchmark report


def _item(i: int, ans: Answer, **fields: object) -> rtqa.BenchItem:
    q = question(i)
    return rtqa.BenchItem.model_validate({
        "id": q.id, "type": q.type, "time_sensitive": q.time_sensitive, "query": q.query, "answers": q.answers,
        "evidence_docs": q.evidence_docs, "evidence_rank": {"bm25": 1}, "in_context": True, "answer": ans,
        "accuracy": Check(name="accuracy", passed=ans.found, reason=""), "seconds": 0.1, "choices": q.choices,
        "answer_index": q.answer_index, **fields,
    })


def test_bench_items_and_rows_carry_the_short_answer_scores() -> None:
    items = [_item(0, reply("the Alaska Airlines flight [1]")), _item(1, REFUSED)]
    dumped = json.loads(items[0].model_dump_json())
    assert dumped["lead_em"] == 0.0 and dumped["lead_f1"] == pytest.approx(0.8)
    assert dumped["mc_correct"] is True and dumped["words"] == 4
    assert json.loads(items[1].model_dump_json())["mc_correct"] is False
    assert rtqa.BenchItem.model_validate(dumped).lead_f1 == pytest.approx(0.8)  # a saved report loads back
    row = rtqa.accuracy_rows(items)[0]
    assert (row.accuracy, row.refused, row.false_refusal, row.in_context) == (0.5, 0.5, 0.5, 1.0)
    assert row.lead_f1 == pytest.approx(0.4) and row.mc_accuracy == 0.5 and row.median_words == 4.0
    without_choices = _item(2, reply("Alaska Airlines [1]"), choices=[], answer_index=None)
    assert without_choices.mc_correct is None and rtqa.accuracy_rows([without_choices])[0].mc_accuracy is None


def test_format_bench_prints_the_new_columns() -> None:
    items = [_item(0, reply("Alaska Airlines [1]")), _item(1, REFUSED)]
    report = rtqa.BenchReport(data="d", questions_file="q.jsonl", generator="extractive", top_k=5, documents=2,
                              chunks=3, index_seconds=0.0, seconds=1.0, retrieval=[],
                              accuracy=rtqa.accuracy_rows(items), items=items)
    text = rtqa.format_bench(report)
    header = next(line for line in text.splitlines() if line.startswith("group"))
    assert header.split()[-8:] == ["ev@top5", "lead", "EM", "lead", "F1", "MC", "acc", "words"]
    all_row = next(line for line in text.splitlines() if line.startswith("all "))
    # n, accuracy, has ans, cites ev, refused, ev@top5, lead EM, lead F1, MC acc, words (median of 2 and 4)
    assert all_row.split()[1:] == ["2", "0.500", "0.500", "0.500", "0.500", "1.000", "0.500", "0.500", "0.500", "3"]


def test_question_choices_load_and_a_bad_answer_index_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    line = question(0).model_dump()
    path.write_text(json.dumps(line) + "\n" + json.dumps({**line, "id": "rtqa-1", "choices": []}) + "\n")
    loaded = rtqa.load_questions(path)
    assert loaded[0].choices == CHOICES and loaded[0].answer_index == 2 and loaded[1].choices == []
    path.write_text(json.dumps({**line, "answer_index": 4}) + "\n")
    with pytest.raises(EvalFileError, match="answer_index 4 is not an index of its 4 choices"):
        rtqa.load_questions(path)
