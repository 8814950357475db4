"""Scorers judged on hand-made answers: each must pass a good answer and fail a bad one, saying why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.evaluation import scorers
from assistant.evaluation.gold import GOLD_FILE, KINDS, EvalFileError, GoldQuestion, load_gold, with_phrasings
from assistant.models import Answer, Citation, Disagreement, Passage, Position

SRC = "000_report"
OTHER = "001_other"
ARTICLE = (
    "Iraq on edge\n\n"
    "Mr. al-Kadhimi suffered only a light cut on his hand in the attack,  which reportedly involved\n"
    "three separate drones. Iran\u2019s spokesman called it \u201ca plot\u201d.\n"
)


def gold(kind: str = "fact", **fields: object) -> GoldQuestion:
    """A gold question with sensible defaults for its kind."""
    if kind in ("unanswerable", "noise"):
        base: dict[str, object] = {"facts": [], "sources": []}
    else:
        base = {"facts": [["light cut", "minor injury"], [r"\bthree\b", r"\b3\b"]], "sources": [SRC]}
    return GoldQuestion.model_validate({"id": "q", "kind": kind, "question": "Was he hurt?", **base, **fields})


def cite(source_id: str = SRC, quote: str = "Mr. al-Kadhimi suffered only a light cut on his hand", n: int = 1):
    """A citation with the given source and quote."""
    return Citation(marker=n, source_id=source_id, title="t", quote=quote)


def answer(text: str, *citations: Citation, found: bool = True) -> Answer:
    """A hand-built answer."""
    return Answer(text=text, citations=list(citations), found=found)


GOOD = answer("He suffered a light cut; three drones were used. [1]", cite())
REFUSED = answer("The articles don't say.", found=False)


@pytest.fixture
def sources(tmp_path: Path) -> scorers.SourceFiles:
    (tmp_path / f"{SRC}.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / f"{OTHER}.md").write_text("# Other\n\nThe Green Zone was  quiet on Monday.\n", encoding="utf-8")
    return scorers.SourceFiles(tmp_path)


# ------------------------------------------------------------------ fact recall and forbidden claims


def test_fact_recall_passes_when_every_fact_has_an_alternative_present() -> None:
    check = scorers.fact_recall(answer("A MINOR INJURY from 3 drones."), gold())
    assert check is not None and check.passed, check
    assert check.reason == "all 2 facts present"


def test_fact_recall_fails_naming_the_missing_fact() -> None:
    check = scorers.fact_recall(answer("He suffered a light cut. [1]", cite()), gold())
    assert check is not None and not check.passed
    assert check.reason == r"missing 1 of 2 facts: \bthree\b | \b3\b"


def test_a_refusal_that_points_to_the_fact_is_still_a_refusal() -> None:
    pointing = Answer(text="The articles don't say.", found=False, nearest=[cite()])
    assert scorers.nearest_holds_fact(pointing, gold()) is True
    assert scorers.nearest_holds_fact(REFUSED, gold()) is False
    assert scorers.nearest_holds_fact(GOOD, gold()) is None  # found: not a refusal
    assert scorers.nearest_holds_fact(pointing, gold("unanswerable")) is None  # no fact to point to
    facts, answered = scorers.fact_recall(pointing, gold()), scorers.answered(pointing, gold())
    assert facts is not None and not facts.passed and answered is not None and not answered.passed
    # the closest passages are not citations: an unanswerable question refused with them is refused cleanly
    clean = scorers.refusal(pointing, gold("unanswerable"))
    assert clean is not None and clean.passed


def test_fact_recall_fails_on_a_refusal() -> None:
    check = scorers.fact_recall(REFUSED, gold())
    assert check is not None and not check.passed and "missing 2 of 2" in check.reason


def test_fact_recall_normalises_curly_quotes_before_matching() -> None:
    g = gold(facts=[["wasn.?t hurt"], ['"a plot"']])
    check = scorers.fact_recall(answer("He wasn\u2019t hurt; Iran called it \u201ca plot\u201d."), g)
    assert check is not None and check.passed, check


def test_fact_recall_does_not_apply_without_facts() -> None:
    assert scorers.fact_recall(REFUSED, gold("unanswerable")) is None


def test_forbidden_fails_when_a_forbidden_claim_is_made() -> None:
    g = gold(forbidden=["(seriously|badly) (injured|hurt)"])
    bad = scorers.forbidden(answer("He was Badly hurt. [1]", cite()), g)
    assert bad is not None and not bad.passed
    assert bad.reason == "states a forbidden claim: (seriously|badly) (injured|hurt)"
    ok = scorers.forbidden(GOOD, g)
    assert ok is not None and ok.passed
    assert scorers.forbidden(GOOD, gold()) is None


# ------------------------------------------------------------------ citations


def test_citation_precision_passes_only_when_every_cited_source_is_expected() -> None:
    ok = scorers.citation_precision(GOOD, gold())
    assert ok is not None and ok.passed
    mixed = answer("x [1][2]", cite(), cite(OTHER, "The Green Zone was quiet on Monday.", n=2))
    bad = scorers.citation_precision(mixed, gold())
    assert bad is not None and not bad.passed
    assert bad.reason == f"cites {OTHER}, which the gold set does not list as supporting the answer"


def test_citation_precision_does_not_apply_to_an_answer_citing_nothing() -> None:
    assert scorers.citation_precision(REFUSED, gold()) is None


def test_citation_recall_needs_one_expected_source() -> None:
    ok = scorers.citation_recall(GOOD, gold(sources=[SRC, OTHER]))
    assert ok is not None and ok.passed and ok.reason == f"cites {SRC}"
    wrong = scorers.citation_recall(answer("x [1]", cite(OTHER, "q")), gold())
    assert wrong is not None and not wrong.passed
    assert wrong.reason == f"cites only {OTHER}; expected one of {SRC}"
    none = scorers.citation_recall(REFUSED, gold())
    assert none is not None and not none.passed and none.reason.startswith("cites nothing")


# ------------------------------------------------------------------ quote exactness


def test_quote_exactness_accepts_quotes_that_differ_only_in_whitespace_and_quote_marks(
    sources: scorers.SourceFiles,
) -> None:
    quotes = answer(
        "x [1][2][3]",
        cite(quote="on his hand in the attack, which reportedly involved three separate drones."),
        cite(quote='Iran\'s spokesman called it "a plot".', n=2),
        cite(OTHER, "The Green Zone was quiet on Monday.", n=3),
    )
    check = scorers.quote_exactness(quotes, sources)
    assert check is not None and check.passed, check
    assert check.reason == "all 3 quotes verbatim"


def test_quote_exactness_fails_a_paraphrase(sources: scorers.SourceFiles) -> None:
    check = scorers.quote_exactness(answer("x [1]", cite(quote="Kadhimi got a light cut on his hand")), sources)
    assert check is not None and not check.passed
    assert check.reason == f'[1] "Kadhimi got a light cut on his hand" is not in {SRC}'


def test_quote_exactness_fails_a_quote_from_the_wrong_article(sources: scorers.SourceFiles) -> None:
    check = scorers.quote_exactness(answer("x [1]", cite(OTHER)), sources)
    assert check is not None and not check.passed and f"is not in {OTHER}" in check.reason


def test_quote_exactness_fails_an_unknown_source_and_an_empty_quote(sources: scorers.SourceFiles) -> None:
    check = scorers.quote_exactness(answer("x [1][2]", cite("999_missing"), cite(quote="  ", n=2)), sources)
    assert check is not None and not check.passed
    assert "[1] names 999_missing, which has no file in" in check.reason
    assert "[2] has an empty quote" in check.reason


def test_quote_exactness_does_not_apply_without_citations(sources: scorers.SourceFiles) -> None:
    assert scorers.quote_exactness(REFUSED, sources) is None


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize("kind", ["unanswerable", "noise"])
def test_refusal_passes_only_a_clean_refusal(kind: str) -> None:
    g = gold(kind)
    ok = scorers.refusal(REFUSED, g)
    assert ok is not None and ok.passed
    answered = scorers.refusal(GOOD, g)
    assert answered is not None and not answered.passed and answered.reason.startswith("answered (1 citations)")
    leaky = scorers.refusal(answer("The articles don't say.", cite(), found=False), g)
    assert leaky is not None and not leaky.passed and leaky.reason.startswith("refused but still cited sources")


def test_false_refusal_of_an_answerable_question_fails() -> None:
    bad = scorers.answered(REFUSED, gold())
    assert bad is not None and not bad.passed and bad.reason.startswith("false refusal")
    ok = scorers.answered(GOOD, gold())
    assert ok is not None and ok.passed
    assert scorers.answered(REFUSED, gold("noise")) is None
    assert scorers.refusal(REFUSED, gold()) is None


# ------------------------------------------------------------------ retrieval


def _passage(source_id: str, n: int) -> Passage:
    return Passage(chunk_id=f"{source_id}::{n}", source_id=source_id, title="t", text="x")


def test_ranked_sources_keeps_first_appearance_order() -> None:
    ranking = [_passage("b", 0), _passage("a", 0), _passage("b", 1), _passage("c", 0)]
    assert scorers.ranked_sources(ranking) == ["b", "a", "c"]


def test_retrieval_recall_is_the_fraction_of_expected_sources_in_the_top_k() -> None:
    partial = scorers.retrieval_recall(["a", "x", "b"], ["a", "b", "c"], k=2)
    assert partial is not None and not partial.passed
    assert partial.value == pytest.approx(1 / 3)
    assert partial.reason == "1 of 3 sources in the top 2; missing b, c"
    full = scorers.retrieval_recall(["a", "x", "b"], ["a", "b"], k=3)
    assert full is not None and full.passed and full.value == 1.0
    assert scorers.retrieval_recall(["a"], [], k=3) is None


def test_hit_at_k_and_reciprocal_rank() -> None:
    assert scorers.hit_at_k(["x", "a"], {"a"}, 1) == scorers.Check(
        name="recall@1", passed=False, reason="no relevant source in the top 1"
    )
    hit = scorers.hit_at_k(["x", "a"], {"a"}, 5)
    assert hit is not None and hit.passed and hit.reason == "a at rank 2"
    rr = scorers.reciprocal_rank(["x", "y", "a"], {"a"})
    assert rr is not None and not rr.passed and rr.value == pytest.approx(1 / 3)
    top = scorers.reciprocal_rank(["a"], {"a"})
    assert top is not None and top.passed and top.value == 1.0
    miss = scorers.reciprocal_rank(["x"], {"a"})
    assert miss is not None and not miss.passed and miss.value == 0.0
    assert scorers.first_rank(["x", "a"], {"a"}) == 2 and scorers.first_rank([], {"a"}) is None


# ------------------------------------------------------------------ benchmark answer accuracy


def test_contains_answer_is_case_insensitive_and_word_bounded() -> None:
    assert scorers.contains_answer("The airline was ALASKA Airlines.", ["Alaska Airlines"]) == "Alaska Airlines"
    assert scorers.contains_answer("It happened in 2024.", ["20"]) is None
    assert scorers.contains_answer("Final score: 84-82.", ["84-82"]) == "84-82"


def test_answer_accuracy_needs_the_answer_string_and_a_cited_evidence_doc() -> None:
    ev = ["usat-1"]
    good = answer("Alaska Airlines grounded planes. [1]", cite("usat-1", "q"))
    assert scorers.answer_accuracy(good, ["Alaska Airlines"], ev).passed
    wrong_doc = answer("Alaska Airlines grounded planes. [1]", cite("cnn-2", "q"))
    check = scorers.answer_accuracy(wrong_doc, ["Alaska Airlines"], ev)
    assert not check.passed and check.reason == "no evidence document cited"
    wrong_answer = answer("United Airlines grounded planes. [1]", cite("usat-1", "q"))
    check = scorers.answer_accuracy(wrong_answer, ["Alaska Airlines"], ev)
    assert not check.passed and check.reason == "no gold answer (Alaska Airlines) in the answer"
    refused = scorers.answer_accuracy(REFUSED, ["Alaska Airlines"], ev)
    assert not refused.passed and refused.reason == "refused"


# ------------------------------------------------------------------ no scorer passes everything

BAD_CASES: list[tuple[str, Callable[[scorers.SourceFiles], scorers.Check | None]]] = [
    ("fact_recall", lambda s: scorers.fact_recall(answer("Nothing relevant."), gold())),
    ("forbidden", lambda s: scorers.forbidden(answer("Paris."), gold("unanswerable", forbidden=["paris"]))),
    ("citation_precision", lambda s: scorers.citation_precision(answer("x [1]", cite(OTHER)), gold())),
    ("citation_recall", lambda s: scorers.citation_recall(answer("x [1]", cite(OTHER)), gold())),
    ("quote_exactness", lambda s: scorers.quote_exactness(answer("x [1]", cite(quote="made up")), s)),
    ("answered", lambda s: scorers.answered(REFUSED, gold())),
    ("refusal_accuracy", lambda s: scorers.refusal(GOOD, gold("noise"))),
    ("retrieval_recall", lambda s: scorers.retrieval_recall(["x"], [SRC], 8)),
    ("mrr", lambda s: scorers.reciprocal_rank(["x", SRC], [SRC])),
    ("recall@5", lambda s: scorers.hit_at_k(["x"], [SRC], 5)),
    ("accuracy", lambda s: scorers.answer_accuracy(GOOD, ["Alaska"], [SRC])),
]


@pytest.mark.parametrize(("name", "case"), BAD_CASES, ids=[n for n, _ in BAD_CASES])
def test_every_scorer_can_fail_and_says_why(
    name: str, case: Callable[[scorers.SourceFiles], scorers.Check | None], sources: scorers.SourceFiles
) -> None:
    check = case(sources)
    assert check is not None
    assert check.name == name
    assert not check.passed
    assert check.reason.strip()


# ------------------------------------------------------------------ the gold file


def test_the_gold_file_loads_and_covers_every_kind() -> None:
    gold_set = load_gold(GOLD_FILE)
    assert len(gold_set.questions) == 60
    assert {q.kind for q in gold_set.questions} == set(KINDS)


def test_every_non_noise_gold_question_has_variants() -> None:
    questions = load_gold(GOLD_FILE).questions
    thin = [q.id for q in questions if q.kind != "noise" and len(q.variants) < 2]
    assert not thin, f"fewer than two variants: {thin}"
    # short standalone questions after an unrelated turn: a history, and an answer that does not depend on it
    standalone = [q for q in questions if q.id.startswith("standalone-")]
    assert len([q for q in standalone if q.kind in ("fact", "multi")]) >= 6
    assert all(len(q.history) == 2 and q.kind in ("fact", "multi", "disputed") for q in standalone)


def test_held_out_phrasings_replace_the_variants(tmp_path: Path) -> None:
    gold_set = load_gold(GOLD_FILE)
    held = with_phrasings(gold_set, GOLD_FILE.parent / "heldout.yaml")
    asked = {q.id: q for q in held.questions}
    assert all(len(asked[q.id].variants) == 2 for q in gold_set.questions if q.kind != "noise")
    assert all(not set(asked[q.id].variants) & set(q.phrasings) for q in gold_set.questions)  # new wording only
    assert [q.facts for q in held.questions] == [q.facts for q in gold_set.questions]
    path = tmp_path / "phrasings.yaml"
    for text, message in {"no-such-question: ['Hurt?']": "names questions the gold set does not have: no-such",
                          "biden-description: 'What did Biden say?'": "each id takes a list of phrasings",
                          "biden-description: ['  ']": "a variant must be a non-empty question"}.items():
        path.write_text(text, encoding="utf-8")
        with pytest.raises(EvalFileError, match=message):
            with_phrasings(gold_set, path)


def test_variants_are_validated(tmp_path: Path) -> None:
    ok = gold(variants=["Did he get injured?", "Kadhimi hurt?"])
    assert ok.phrasings == ["Was he hurt?", "Did he get injured?", "Kadhimi hurt?"]
    assert gold().variants == [] and gold().phrasings == ["Was he hurt?"]
    path = tmp_path / "gold.yaml"
    head = "questions:\n  - {id: a, kind: fact, question: 'Was he hurt?', facts: [['x']], sources: [s], variants: "
    cases = {
        "['  ']": "question 'a' variants: Value error, a variant must be a non-empty question",
        "['Hurt?', 'hurt?  ']": "question 'a' variants: Value error, duplicate variant 'hurt\\?  '",
        "['Injured?', 'was he  HURT?']": "question 'a' has a variant that repeats the question",
        "[3]": "question 'a' variants.0: Input should be a valid string",
    }
    for variants, message in cases.items():
        path.write_text(head + variants + "}\n")
        with pytest.raises(EvalFileError, match=message):
            load_gold(path)


def test_a_bad_gold_file_is_rejected_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "gold.yaml"
    path.write_text("questions:\n  - {id: a, kind: fact, question: q, facts: [['(unclosed']], sources: [s]}\n")
    expected = r"gold.yaml is invalid; fix it and rerun:\n  question 'a' facts: Value error, invalid regex '\(unclosed'"
    with pytest.raises(EvalFileError, match=expected):
        load_gold(path)
    path.write_text("questions:\n  - {id: a, kind: fact, question: q, facts: [['x']], sources: []}\n")
    with pytest.raises(EvalFileError, match="fact question 'a' needs facts and sources"):
        load_gold(path)
    path.write_text("questions:\n  - {id: a, kind: noise, question: q}\n  - {id: a, kind: noise, question: q}\n")
    with pytest.raises(EvalFileError, match="duplicate question ids: a"):
        load_gold(path)
    with pytest.raises(EvalFileError, match="does not exist"):
        load_gold(tmp_path / "nope.yaml")


def test_sides_shown_must_each_state_a_gold_fact() -> None:
    injured = cite(quote="Mr. al-Kadhimi suffered only a light cut on his hand", n=1)
    unhurt = cite(OTHER, quote="He escaped unhurt", n=2)
    topic = cite(OTHER, quote="A drone attacked the residence of the prime minister", n=3)

    def differ(*positions: tuple[str, list[int]]) -> Answer:
        shown = answer("Sources differ", injured, unhurt, topic)
        return shown.model_copy(update={"disagreements": [Disagreement(
            point="Was he hurt?", kind="yesno", positions=[Position(claim=c, markers=m) for c, m in positions])]})

    hurt = gold("disputed", facts=[["light cut", "minor injury"], ["unhurt", "unharmed"]])
    assert scorers.differ_holds_facts(differ(("Yes", [1]), ("No", [2])), hurt) is True
    # a quote that only shares the topic is no side: "Yes [3]" says nothing about his being hurt
    assert scorers.differ_holds_facts(differ(("Yes", [1, 3]), ("No", [2])), hurt) is False
    assert scorers.differ_holds_facts(answer("x", injured), hurt) is None  # no disagreement shown
