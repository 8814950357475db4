"""The eval runner, reports, gate and benchmark helpers, driven by a fake assistant (no model needed)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.cli import build_parser
from assistant.evaluation import rtqa
from assistant.evaluation.gate import THRESHOLDS_FILE, gate_failures, load_thresholds
from assistant.evaluation.gold import EvalFileError, GoldSet
from assistant.evaluation.report import format_table, to_markdown, write_reports
from assistant.evaluation.runner import METRICS, EvalReport, run_eval
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
    assert set(thresholds) <= set(METRICS)
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
