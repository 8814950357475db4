"""CI gate: the gold-fact eval on the real seed corpus with the default answerer must meet evals/thresholds.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.embeddings import MiniLMEmbedder
from assistant.evaluation.gate import failing, gate_failures, load_thresholds
from assistant.evaluation.gold import load_gold
from assistant.evaluation.runner import EvalReport, run_eval
from assistant.settings import PROJECT_DIR

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, minilm: MiniLMEmbedder) -> EvalReport:
    data_dir: Path = tmp_path_factory.mktemp("gate-index")
    default = Settings.model_fields["generator"].default  # the default answerer, whatever the environment says
    settings = Settings(corpus_dir=PROJECT_DIR / "corpus", data_dir=data_dir, generator=default)
    assistant = Assistant(settings, embedder=minilm)
    return run_eval(assistant, load_gold(), progress=False)


def test_every_gold_question_was_scored(report: EvalReport) -> None:
    gold = load_gold().questions
    assert len(report.results) == len(gold)
    assert all(r.checks for r in report.results)
    # every variant was asked and scored too, in the gold file's order
    assert [[v.question for v in r.variants] for r in report.results] == [q.variants for q in gold]
    assert all(v.checks for r in report.results for v in r.variants)


@pytest.mark.parametrize("metric", sorted(load_thresholds()))
def test_metric_meets_its_threshold(report: EvalReport, metric: str) -> None:
    limit = load_thresholds()[metric]
    below = gate_failures(report, {metric: limit})
    assert not below, f"{below[0]}; failing:\n" + "\n".join(failing(report, metric))
