"""Run the gold-fact suite through an Assistant and aggregate the checks into rates per question kind."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field, computed_field

from ..generation import Generator
from ..models import Answer, Message, Passage
from ..settings import Settings
from . import scorers
from .gold import GOLD_FILE, KINDS, EvalFileError, GoldQuestion, GoldSet, missing_sources

# Metric names in report order; each is the mean value of the checks of that name (a pass rate for pass/fail ones).
METRICS: tuple[str, ...] = (
    "fact_recall", "forbidden", "citation_precision", "citation_recall", "quote_exactness",
    "answered", "refusal_accuracy", "retrieval_recall", "mrr",
)


class Target(Protocol):
    """What the suite evaluates: `assistant.Assistant`, or a fake in tests."""

    settings: Settings
    generator: Generator

    def index(self) -> Any:
        """Bring the index in line with the corpus."""
        ...

    def ask(self, question: str, history: Sequence[Message]) -> Answer:
        """Answer a question with its chat history."""
        ...

    def retrieve(self, question: str, history: Sequence[Message]) -> list[Passage]:
        """The passages the answerer would see."""
        ...


class Rate(BaseModel):
    """How many applicable checks passed, and the mean of their values."""

    passed: int = 0
    total: int = 0
    value_sum: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def mean(self) -> float | None:
        """Mean value over the applicable checks (the pass rate for pass/fail checks); None when none applied."""
        return self.value_sum / self.total if self.total else None

    def add(self, check: scorers.Check) -> None:
        """Count one check."""
        self.passed += check.passed
        self.total += 1
        self.value_sum += check.value


class QuestionResult(BaseModel):
    """One gold question, the answer it got, what was retrieved, and every check on it."""

    id: str
    kind: str
    question: str
    history: list[Message] = Field(default_factory=list)
    answer: Answer
    retrieved: list[str] = Field(description="Distinct source ids of the retrieved passages, best first.")
    expected_sources: list[str]
    checks: list[scorers.Check]
    seconds: float

    @property
    def passed(self) -> bool:
        """True when every applicable check passed."""
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[scorers.Check]:
        """The checks that failed."""
        return [c for c in self.checks if not c.passed]


class EvalReport(BaseModel):
    """A whole run: settings that matter, per-question results and the rates by kind and overall."""

    created: datetime
    generator: str
    gold_file: str
    corpus_dir: str
    top_k: int
    index_seconds: float
    seconds: float
    results: list[QuestionResult]
    by_kind: dict[str, dict[str, Rate]]
    overall: dict[str, Rate]
    pass_rate: dict[str, Rate] = Field(description="Questions passing every check, by kind and 'all'.")

    def metric(self, name: str) -> float | None:
        """The overall value of one metric (None when no question applied)."""
        return self.overall[name].mean if name in self.overall else None


def score_question(
    gold: GoldQuestion, answer: Answer, retrieved: list[str], sources: scorers.SourceFiles, top_k: int
) -> list[scorers.Check]:
    """Every check that applies to this question's answer and retrieval."""
    checks = [
        scorers.fact_recall(answer, gold),
        scorers.forbidden(answer, gold),
        scorers.citation_precision(answer, gold),
        scorers.citation_recall(answer, gold),
        scorers.quote_exactness(answer, sources),
        scorers.answered(answer, gold),
        scorers.refusal(answer, gold),
        scorers.retrieval_recall(retrieved, gold.sources, top_k),
        scorers.reciprocal_rank(retrieved, gold.sources),
    ]
    return [c for c in checks if c is not None]


def summarize(results: list[QuestionResult]) -> tuple[dict[str, dict[str, Rate]], dict[str, Rate], dict[str, Rate]]:
    """Rates per kind and overall for each metric, and the all-checks pass rate per kind."""
    kinds: list[str] = [k for k in KINDS if any(r.kind == k for r in results)]
    by_kind = {k: {m: Rate() for m in METRICS} for k in kinds}
    overall = {m: Rate() for m in METRICS}
    passing = {k: Rate() for k in [*kinds, "all"]}
    for r in results:
        for check in r.checks:
            by_kind[r.kind][check.name].add(check)
            overall[check.name].add(check)
        verdict = scorers.Check(name="pass", passed=r.passed, reason="")
        passing[r.kind].add(verdict)
        passing["all"].add(verdict)
    return by_kind, overall, passing


def run_eval(
    assistant: Target, gold: GoldSet, *, gold_file: Path = GOLD_FILE, progress: bool = True
) -> EvalReport:
    """Ask every gold question (with its history), retrieve for it, and score both."""
    from tqdm import tqdm

    settings = assistant.settings
    missing = missing_sources(gold, settings.corpus_dir)
    if missing:
        raise EvalFileError(
            f"The gold set cites sources with no file in {settings.corpus_dir}: {', '.join(missing)}. "
            "Evaluate against the corpus the gold set was written for (--corpus)."
        )
    started = time.perf_counter()
    assistant.index()  # bring the index in line with the corpus before judging it
    index_seconds = time.perf_counter() - started
    sources = scorers.SourceFiles(settings.corpus_dir)
    results: list[QuestionResult] = []
    for q in tqdm(gold.questions, desc="Evaluating", unit="q", file=sys.stderr, disable=not progress):
        t = time.perf_counter()
        answer = assistant.ask(q.question, q.history)
        retrieved = scorers.ranked_sources(assistant.retrieve(q.question, q.history))
        results.append(
            QuestionResult(
                id=q.id,
                kind=q.kind,
                question=q.question,
                history=q.history,
                answer=answer,
                retrieved=retrieved,
                expected_sources=q.sources,
                checks=score_question(q, answer, retrieved, sources, settings.top_k),
                seconds=time.perf_counter() - t,
            )
        )
    by_kind, overall, passing = summarize(results)
    return EvalReport(
        created=datetime.now().astimezone(),
        generator=assistant.generator.name,
        gold_file=str(gold_file),
        corpus_dir=str(settings.corpus_dir),
        top_k=settings.top_k,
        index_seconds=index_seconds,
        seconds=time.perf_counter() - started,
        results=results,
        by_kind=by_kind,
        overall=overall,
        pass_rate=passing,
    )
