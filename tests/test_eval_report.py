"""The eval runner, reports, gate and benchmark helpers, driven by a fake assistant (no model needed)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.cli import build_parser
from assistant.evaluation import rtqa
from assistant.evaluation.gate import THRESHOLDS_FILE, failing, gate_failures, load_thresholds
from assistant.evaluation.gold import EvalFileError, GoldSet
from assistant.evaluation.report import format_table, outcome_rows, to_markdown, write_reports
from assistant.evaluation.runner import GATE_METRICS, EvalReport, PhrasingResult, QuestionResult, run_eval
from assistant.evaluation.scorers import Check
from assistant.models import Answer, Citation, Message, Passage
from assistant.settings import Settings

GOLD = GoldSet.model_validate(
    {
        "questions": [
            {"id": "good", "kind": "fact", "question": "How many drones?", "facts": [["three"]], "sources": ["a"]},
            {"id": "wrong-source", "kind": "fact", "question": "Who blamed Iran?", "facts": [["McKenzie"]],
             "sources": ["a"]},
            {"id": "off-topic", "kind": "unanswerable", "question": "Capital of France?", "forbidden": ["Paris"]},
        ]
    }
)


class FakeGenerator:
    """Only the name matters to the runner."""

    name = "fake"


class FakeAssistant:
    """Answers from a table keyed by question and retrieves a fixed ranking; records what it was asked."""

    def __init__(self, settings: Settings, answers: dict[str, Answer], ranking: list[str]) -> None:
        self.settings, self.answers, self.ranking = settings, answers, ranking
        self.generator = FakeGenerator()
        self.asked: list[tuple[str, list[Message]]] = []
        self.indexed = 0

    def index(self) -> None:
        self.indexed += 1

    def ask(self, question: str, history: Sequence[Message]) -> Answer:
        self.asked.append((question, list(history)))
        return self.answers[question]

    def retrieve(self, question: str, history: Sequence[Message]) -> list[Passage]:
        return [Passage(chunk_id=f"{s}::0", source_id=s, title=s, text="x") for s in self.ranking]


@pytest.fixture
def report(tmp_path: Path) -> EvalReport:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Three drones were used. Gen. McKenzie blamed militias.\n")
    (corpus / "b.txt").write_text("Paris is the capital of France.\n")
    answers = {
        "How many drones?": Answer(
            text="Three drones were used. [1]",
            citations=[Citation(marker=1, source_id="a", title="a", quote="Three drones were used.")],
        ),
        "Who blamed Iran?": Answer(
            text="Nobody knows. [1]",
            citations=[Citation(marker=1, source_id="b", title="b", quote="Paris is the capital")],
        ),
        "Capital of France?": Answer(
            text="Paris is the capital of France. [1]",
            citations=[Citation(marker=1, source_id="b", title="b", quote="Paris is the capital of France.")],
        ),
    }
    fake = FakeAssistant(Settings(corpus_dir=corpus, data_dir=tmp_path / "data"), answers, ranking=["b", "a"])
    result = run_eval(fake, GOLD, progress=False)
    assert fake.indexed == 1 and [q for q, _ in fake.asked] == [q.question for q in GOLD.questions]
    return result


def test_rates_by_kind_and_overall(report: EvalReport) -> None:
    fact = report.by_kind["fact"]
    assert (fact["fact_recall"].passed, fact["fact_recall"].total) == (1, 2)
    assert (fact["citation_precision"].passed, fact["citation_precision"].total) == (1, 2)
    assert fact["quote_exactness"].mean == 1.0
    assert fact["refusal_accuracy"].mean is None  # does not apply to answerable questions
    assert fact["mrr"].mean == pytest.approx(0.5)  # the expected source 'a' is ranked second
    assert report.by_kind["unanswerable"]["refusal_accuracy"].mean == 0.0
    assert report.metric("forbidden") == 0.0
    assert report.pass_rate["all"].passed == 0
    assert [r.id for r in report.results if not r.passed] == ["good", "wrong-source", "off-topic"]


def test_table_and_markdown_show_every_failure_with_its_answer(report: EvalReport) -> None:
    table = format_table(report)
    assert "generator: fake   questions: 3" in table
    assert table.splitlines()[-1].split()[:3] == ["all", "3", "0.00"]
    md = to_markdown(report, "chart.png")
    assert "## Failures (3 of 3 questions)" in md
    assert "### `wrong-source` (fact)" in md
    assert "> Nobody knows. [1]" in md
    assert "- fact_recall: missing 1 of 1 facts: McKenzie" in md
    assert "- citation_precision: cites b, which the gold set does not list as supporting the answer" in md
    assert "- refusal_accuracy: answered (1 citations): Paris is the capital of France. [1]" in md
    assert "- forbidden: states a forbidden claim: Paris" in md
    assert "![scores by kind](chart.png)" in md


def test_write_reports_writes_json_markdown_and_png(report: EvalReport, tmp_path: Path) -> None:
    paths = write_reports(report, tmp_path / "reports")
    assert paths.json_path.name.endswith("-fake.json")
    assert json.loads(paths.json_path.read_text())["overall"]["fact_recall"]["mean"] == 0.5
    assert paths.chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths.latest_chart.read_bytes() == paths.chart.read_bytes()
    assert f"]({paths.chart.name})" in paths.markdown.read_text()
    assert "](latest.png)" in paths.latest_markdown.read_text()


def test_gate_names_each_metric_below_its_threshold(report: EvalReport) -> None:
    assert gate_failures(report, {"quote_exactness": 1.0}) == []
    assert gate_failures(report, {"fact_recall": 0.85, "refusal_accuracy": 0.9}) == [
        "fact_recall = 0.500 < 0.850",
        "refusal_accuracy = 0.000 < 0.900",
    ]


def test_thresholds_file_is_valid_and_typos_are_rejected(tmp_path: Path) -> None:
    thresholds = load_thresholds(THRESHOLDS_FILE)
    assert {"fact_recall", "citation_precision", "quote_exactness", "refusal_accuracy"} <= set(thresholds)
    assert set(thresholds) <= set(GATE_METRICS)
    bad = tmp_path / "t.yaml"
    bad.write_text("fact_recal: 0.8\n")
    with pytest.raises(EvalFileError, match="unknown metrics fact_recal"):
        load_thresholds(bad)
    bad.write_text("fact_recall: 85\n")
    with pytest.raises(EvalFileError, match="fact_recall must be a number between 0 and 1"):
        load_thresholds(bad)


def test_missing_gold_sources_stop_the_run(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("Something.\n")
    fake = FakeAssistant(Settings(corpus_dir=tmp_path, data_dir=tmp_path / "d"), {}, [])
    with pytest.raises(EvalFileError, match="no file in .*: a\\. Evaluate against"):
        run_eval(fake, GOLD, progress=False)


# ------------------------------------------------------------------ variants and the worst phrasing

VARIANT_GOLD = GoldSet.model_validate(
    {
        "questions": [
            {"id": "drones", "kind": "fact", "question": "How many drones?", "facts": [["three"]], "sources": ["a"],
             "variants": ["Drone count?", "Number of drones used?"],
             "history": [{"role": "user", "content": "Who blamed Iran?"}, {"role": "assistant", "content": "x"}]},
            {"id": "blame", "kind": "fact", "question": "Who blamed Iran?", "facts": [["McKenzie"]], "sources": ["a"],
             "variants": ["Which general blamed Iran?", "Who blamed Tehran?"]},
            {"id": "france", "kind": "unanswerable", "question": "Capital of France?", "forbidden": ["Paris"],
             "variants": ["French capital?"]},
        ]
    }
)
CITE_A = Citation(marker=1, source_id="a", title="a", quote="Three drones were used.")
CITE_MCKENZIE = Citation(marker=1, source_id="a", title="a", quote="Gen. McKenzie blamed militias.")
CITE_B = Citation(marker=1, source_id="b", title="b", quote="It is a city of light.")
NOT_FOUND = Answer(text="The articles don't say.", found=False)


@pytest.fixture
def variant_report(tmp_path: Path) -> EvalReport:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Three drones were used. Gen. McKenzie blamed militias.\n")
    (corpus / "b.txt").write_text("It is a city of light.\n")
    answers = {
        # drones: the original and one variant answered, the other variant falsely refused (the worst)
        "How many drones?": Answer(text="Three [1]\n- a: Three drones were used. [1]", citations=[CITE_A],
                                   lead="Three [1]"),
        "Drone count?": Answer(text="Three [1]\n- a: Three drones were used. [1]", citations=[CITE_A],
                               lead="Three [1]"),  # a direct answer stating the fact
        "Number of drones used?": NOT_FOUND.model_copy(update={"nearest": [CITE_A]}),  # points to the fact
        # blame: the original and its second variant are equally wrong, the first variant right, so the original is
        # the worst phrasing (the first of equals)
        "Who blamed Iran?": Answer(text="Nobody knows. [1]", citations=[CITE_B]),
        "Which general blamed Iran?": Answer(text="Gen. McKenzie blamed militias. [1]", citations=[CITE_MCKENZIE]),
        "Who blamed Tehran?": Answer(text="Nobody [1]\n- b: Nobody knows. [1]", citations=[CITE_B],
                                     lead="Nobody [1]"),  # a direct answer, wrong
        # france: the original refused cleanly; the variant answers with an exact quote and no forbidden word, so it
        # passes as many checks (forbidden, quote_exactness) as the clean refusal (forbidden, refusal) and must
        # still be the worst because it failed one
        "Capital of France?": NOT_FOUND,
        "French capital?": Answer(text="It is a city of light. [1]", citations=[CITE_B]),
    }
    fake = FakeAssistant(Settings(corpus_dir=corpus, data_dir=tmp_path / "data"), answers, ranking=["a", "b"])
    result = run_eval(fake, VARIANT_GOLD, progress=False)
    history = VARIANT_GOLD.questions[0].history
    assert fake.asked[:3] == [(q, history) for q in ["How many drones?", "Drone count?", "Number of drones used?"]]
    assert len(fake.asked) == 8
    return result


def test_every_variant_is_asked_with_the_same_history_and_scored(variant_report: EvalReport) -> None:
    drones, blame, france = variant_report.results
    assert drones.question == "How many drones?" and drones.passed  # the original's result, as before
    assert [v.question for v in drones.variants] == ["Drone count?", "Number of drones used?"]
    assert [v.passed for v in drones.variants] == [True, False]
    assert "answered" in [c.name for c in drones.variants[1].failures]
    assert [v.passed for v in blame.variants] == [True, False] and not blame.passed
    assert france.passed and not france.variants[0].passed


def test_the_worst_phrasing_is_the_one_that_fails_most(variant_report: EvalReport) -> None:
    drones, blame, france = variant_report.results
    assert drones.worst_phrasing == 2 and drones.worst.question == "Number of drones used?"
    assert blame.worst_phrasing == 0 and blame.worst is blame
    assert france.worst_phrasing == 1 and france.worst.question == "French capital?"
    # original rates are those of the questions as written; worst_ ones of the worst phrasing of each
    assert variant_report.metric("fact_recall") == 0.5 and variant_report.metric("worst_fact_recall") == 0.0
    assert variant_report.metric("pass") == pytest.approx(2 / 3) and variant_report.metric("worst_pass") == 0.0
    assert variant_report.metric("refusal_accuracy") == 1.0
    assert variant_report.metric("worst_refusal_accuracy") == 0.0
    assert variant_report.metric("answered") == 1.0 and variant_report.metric("worst_answered") == 0.5
    assert variant_report.metric("false_refusal") == 0.0 and variant_report.metric("worst_false_refusal") == 0.5
    assert variant_report.worst.false_refusal["unanswerable"].mean is None  # refusal kinds cannot falsely refuse
    assert variant_report.metric("worst_no_such_metric") is None


def _phrasing(question: str, *checks: tuple[str, bool], found: bool = True) -> PhrasingResult:
    return PhrasingResult(
        question=question, answer=Answer(text="x", found=found), retrieved=[], seconds=0.0,
        checks=[Check(name=n, passed=p, reason="r") for n, p in checks],
    )


def test_worst_phrasing_ties_go_to_the_lowest_fact_value_then_to_the_first() -> None:
    original = _phrasing("q", ("fact_recall", True), ("citation_recall", True), ("answered", True))
    right_facts = _phrasing("v1", ("fact_recall", True), ("citation_recall", False), ("answered", True))
    wrong_facts = _phrasing("v2", ("fact_recall", False), ("citation_recall", True), ("answered", True))
    same = _phrasing("v3", ("fact_recall", False), ("citation_recall", True), ("answered", True))
    fewer = _phrasing("v4", ("fact_recall", False), ("citation_recall", False), ("answered", True))

    def result(*variants: PhrasingResult) -> QuestionResult:
        return QuestionResult(**original.model_dump(), id="q", kind="fact", expected_sources=["a"],
                              variants=list(variants))

    assert result().worst_phrasing == 0
    assert result(right_facts, wrong_facts, same).worst_phrasing == 2  # same passes; facts decide; first of equals
    assert result(right_facts, wrong_facts, fewer).worst_phrasing == 3
    refused = _phrasing("v5", ("fact_recall", False), ("citation_recall", True), ("answered", True), found=False)
    assert result(wrong_facts, refused).worst_phrasing == 2  # a refusal is worse on an otherwise equal footing
    refused_right = _phrasing("v6", ("fact_recall", True), ("citation_recall", False), ("answered", True), found=False)
    assert result(refused_right, wrong_facts).worst_phrasing == 2  # but the fact value decides first


def test_a_failing_variant_shows_in_the_table_markdown_and_json(variant_report: EvalReport, tmp_path: Path) -> None:
    table = format_table(variant_report)
    assert "questions: 3   phrasings: 8" in table
    assert "original phrasing:" in table and "worst phrasing of each question (original or variant):" in table
    lines = table.splitlines()
    all_rows = [line.split() for line in lines if line.startswith("all ")]
    assert [row[:3] for row in all_rows] == [["all", "3", "0.67"], ["all", "3", "0.00"]]
    assert lines[3].split()[-1] == "false-ref" and all_rows[1][-1] == "0.50"

    md = to_markdown(variant_report, "chart.png")
    assert "## Failures (3 of 3 questions; 4 of 8 phrasings)" in md
    assert "### Worst phrasing of each question" in md
    drones = md[md.index("### `drones` (fact)"):md.index("### `blame` (fact)")]
    assert "Failed 1 of 3 phrasings; worst: variant 2." in drones
    assert "#### variant 2 failed: Number of drones used?" in drones
    assert "> The articles don't say." in drones and "- answered: false refusal" in drones
    assert "variant 1 failed" not in drones and "original failed" not in drones
    assert "- history, user: Who blamed Iran?" in drones
    france = md[md.index("### `france` (unanswerable)"):]
    assert "#### variant 1 failed: French capital?" in france
    assert "- refusal_accuracy: answered (1 citations): It is a city of light. [1]" in france
    blame = md[md.index("### `blame` (fact)"):md.index("### `france`")]
    assert "Failed 2 of 3 phrasings; worst: original." in blame
    assert "#### original failed" in blame and "#### variant 2 failed: Who blamed Tehran?" in blame
    assert blame.count("> Nobody knows. [1]") == 1 and "> - b: Nobody knows. [1]" in blame  # the variant leads
    assert "variant 1 failed" not in blame

    paths = write_reports(variant_report, tmp_path / "reports")
    data = json.loads(paths.json_path.read_text())
    assert data["results"][0]["worst_phrasing"] == 2
    assert data["results"][0]["variants"][1]["answer"]["found"] is False
    assert data["worst"]["overall"]["fact_recall"]["mean"] == 0.0 and data["overall"]["fact_recall"]["mean"] == 0.5
    assert paths.chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_each_phrasing_on_its_own_is_counted_by_outcome(variant_report: EvalReport) -> None:
    originals, variants = variant_report.outcomes(False), variant_report.outcomes(True)
    assert (originals["answerable"], originals["correct"], originals["wrong_facts"]) == (2, 1, 1)
    assert (originals["unanswerable"], originals["unanswerable_refused"]) == (1, 1)
    assert (variants["answerable"], variants["correct"], variants["refused"], variants["wrong_facts"]) == (4, 2, 1, 1)
    assert (variants["unanswerable_refused"], variants["unanswerable_answered"]) == (0, 1)
    # leads: of the 4 found variant answers 2 lead with a direct answer; both can be judged, one states the fact
    # and the one refused variant points, among the closest passages shown with the refusal, to the fact
    assert variant_report.leads(True) == {"found": 4, "led": 2, "judged": 2, "right": 1, "differ": 0,
                                          "differ_right": 0, "refused": 1, "pointed": 1}
    assert outcome_rows(variant_report)[1:] == [
        ["as written", "1/2 (50%)", "0/2 (0%)", "1", "0", "1/1 (100%)", "1/2 (50%)", "1/1 (100%)", "-", "-"],
        ["variants", "2/4 (50%)", "1/4 (25%)", "1", "0", "0/1 (0%)", "2/4 (50%)", "1/2 (50%)", "-", "1/1 (100%)"],
    ]
    assert "variants    2/4 (50%)" in format_table(variant_report)
    assert ("| variants | 2/4 (50%) | 1/4 (25%) | 1 | 0 | 0/1 (0%) | 2/4 (50%) | 1/2 (50%) |"
            in to_markdown(variant_report, "chart.png"))


def test_the_gate_knows_worst_and_false_refusal_metrics(variant_report: EvalReport, tmp_path: Path) -> None:
    limits = {"fact_recall": 0.5, "worst_fact_recall": 0.5, "worst_false_refusal": 0.25}
    assert gate_failures(variant_report, limits) == [
        "worst_fact_recall = 0.000 < 0.500",
        "worst_false_refusal = 0.500 > 0.250",  # a false-refusal rate is a maximum
    ]
    assert gate_failures(variant_report, {"false_refusal": 0.0, "pass": 0.6}) == []
    assert failing(variant_report, "worst_answered") == [
        "drones [variant 2]: false refusal: the corpus answers this question"
    ]
    assert failing(variant_report, "worst_false_refusal") == ["drones [variant 2]: refused 'Number of drones used?'"]
    assert failing(variant_report, "pass")[0].startswith("blame [original]: fact_recall: missing 1 of 1 facts")
    path = tmp_path / "t.yaml"
    path.write_text("worst_fact_recall: 0.8\nworst_pass: 0.5\nworst_false_refusal: 0.1\npass: 0.5\n")
    assert load_thresholds(path) == {"worst_fact_recall": 0.8, "worst_pass": 0.5, "worst_false_refusal": 0.1,
                                     "pass": 0.5}
    for typo in ("worst_fact_recal", "worst_", "worst_worst_pass", "best_fact_recall"):
        path.write_text(f"{typo}: 0.8\n")
        with pytest.raises(EvalFileError, match=f"unknown metrics {typo};"):
            load_thresholds(path)


# ------------------------------------------------------------------ RealTime QA helpers


def _question(i: int, **fields: object) -> str:
    base = {"id": f"rtqa-{i}", "question": f"Q{i}?", "question_dated": f"(Asked on 2024-01-0{i % 9 + 1}) Q{i}?",
            "answers": ["Alaska Airlines"], "evidence_docs": ["usat-1"], "type": "organization",
            "time_sensitive": i % 2 == 0, "choices": ["x"]}
    return json.dumps({**base, **fields})


def test_rtqa_questions_load_with_a_deterministic_subset(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(_question(i) for i in range(20)) + "\n")
    every = rtqa.load_questions(path)
    assert len(every) == 20
    assert every[0].query == every[0].question_dated and every[1].query == "Q1?"
    subset = [q.id for q in rtqa.load_questions(path, limit=5)]
    assert len(subset) == 5 and subset == [q.id for q in rtqa.load_questions(path, limit=5)]
    assert subset != [q.id for q in every[:5]]  # spread over the file, not its head
    path.write_text(_question(1, answers=[]) + "\n")
    with pytest.raises(EvalFileError, match="q.jsonl, line 1: not a benchmark question"):
        rtqa.load_questions(path)


def test_rtqa_retrieval_scores_and_accuracy_groups() -> None:
    scores = rtqa.retrieval_scores("bm25", [1, 3, None, 6], seconds=0.4)
    assert (scores.recall_at_1, scores.recall_at_5) == (0.25, 0.5)
    assert scores.mrr == pytest.approx((1 + 1 / 3 + 1 / 6) / 4)
    assert scores.ms_per_query == pytest.approx(100)

    def item(i: int, passed: bool, kind: str) -> rtqa.BenchItem:
        ans = Answer(text="Alaska Airlines [1]" if passed else "Delta [1]",
                     citations=[Citation(marker=1, source_id="usat-1", title="t", quote="q")])
        return rtqa.BenchItem(id=str(i), type=kind, time_sensitive=i == 0, query="q", answers=["Alaska Airlines"],
                              evidence_docs=["usat-1"], evidence_rank={"bm25": 1}, in_context=True, answer=ans,
                              accuracy=Check(name="accuracy", passed=passed, reason=""), seconds=0.1)

    rows = {r.group: r for r in rtqa.accuracy_rows([item(0, True, "person"), item(1, False, "person"),
                                                    item(2, False, "date")])}
    assert rows["all"].accuracy == pytest.approx(1 / 3) and rows["all"].cites_evidence == 1.0
    assert rows["type: person"].n == 2 and rows["type: person"].has_answer == 0.5
    assert rows["time-sensitive"].accuracy == 1.0 and rows["not time-sensitive"].accuracy == 0.0


def test_bench_data_path_does_not_replace_the_index_folder() -> None:
    args = build_parser().parse_args(["bench", "rtqa", "--data", "/bench", "--limit", "5"])
    assert args.bench_data == "/bench" and args.data is None and args.limit == 5
    args = build_parser().parse_args(["eval", "--generator", "extractive", "--strict"])
    assert args.generator == "extractive" and args.strict
