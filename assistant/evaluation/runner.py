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
from .gold import GOLD_FILE, KINDS, REFUSAL_KINDS, EvalFileError, GoldQuestion, GoldSet, missing_sources

# Metric names in report order; each is the mean value of the checks of that name (a pass rate for pass/fail ones).
METRICS: tuple[str, ...] = (
    "fact_recall", "sides_cited", "forbidden", "citation_precision", "citation_recall", "quote_exactness",
    "answered", "refusal_accuracy", "retrieval_recall", "mrr",
)
# Per-question rates beside the check metrics: `pass` (every check passed) and `false_refusal` (an answerable
# question answered found=False). Lower is better for the latter, so a threshold on it is a maximum.
QUESTION_METRICS: tuple[str, ...] = ("pass", "false_refusal")
LOWER_IS_BETTER: frozenset[str] = frozenset({"false_refusal"})
# The same metrics judged on each question's worst phrasing (the original or one of its variants).
WORST = "worst_"
GATE_METRICS: tuple[str, ...] = (
    *METRICS, *QUESTION_METRICS, *(f"{WORST}{m}" for m in (*METRICS, *QUESTION_METRICS))
)


def phrasing_label(index: int) -> str:
    """How reports name a phrasing: 'original' for index 0, 'variant n' for the n-th gold variant."""
    return "original" if index == 0 else f"variant {index}"


def lower_is_better(name: str) -> bool:
    """True for a metric whose threshold is a maximum (a false-refusal rate), with or without `worst_`."""
    return name.removeprefix(WORST) in LOWER_IS_BETTER


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


class PhrasingResult(BaseModel):
    """One phrasing of a gold question (as written or a variant): its answer, what was retrieved, every check."""

    question: str
    answer: Answer
    retrieved: list[str] = Field(description="Distinct source ids of the retrieved passages, best first.")
    checks: list[scorers.Check]
    seconds: float
    lead_fact: bool | None = Field(default=None, description="The direct answer states a gold fact (None: no "
                                   "direct answer to judge; see scorers.lead_holds_fact).")
    differ_facts: bool | None = Field(default=None, description="Every quote cited for a side where sources differ "
                                      "states a gold fact (None: no disagreement shown; see "
                                      "scorers.differ_holds_facts).")
    nearest_fact: bool | None = Field(default=None, description="A refusal of an answerable question shows, among "
                                      "its closest passages, one that states a gold fact (None: not a refusal of "
                                      "an answerable question; see scorers.nearest_holds_fact).")

    @property
    def passed(self) -> bool:
        """True when every applicable check passed."""
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[scorers.Check]:
        """The checks that failed."""
        return [c for c in self.checks if not c.passed]

    @property
    def severity(self) -> tuple[bool, int, float, bool]:
        """Sort key, lowest = worst: any failure, fewest passed checks, lowest fact value, then a refusal."""
        # A failing phrasing always ranks below a passing one: phrasings get different numbers of applicable
        # checks (a refusal has no quote check), so a clean refusal of an unanswerable question would otherwise
        # tie with an answer to it that quotes the corpus exactly.
        facts = next((c.value for c in self.checks if c.name == "fact_recall"), 1.0)
        return self.passed, sum(c.passed for c in self.checks), facts, self.answer.found


class QuestionResult(PhrasingResult):
    """One gold question as written, its answer and checks (the inherited fields); then each variant's."""

    id: str
    kind: str
    history: list[Message] = Field(default_factory=list)
    expected_sources: list[str]
    variants: list[PhrasingResult] = Field(default_factory=list, description="Results of the gold variants, in order.")
    gated: bool = Field(default=True, description="Counted by the CI gate.")

    @property
    def phrasings(self) -> list[PhrasingResult]:
        """The original phrasing (this result itself, as one of them), then each variant."""
        return [self, *self.variants]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def worst_phrasing(self) -> int:
        """Index into `phrasings` of the worst one: 0 for the original, n for variant n (the first on a tie)."""
        severities = [p.severity for p in self.phrasings]
        return severities.index(min(severities))

    @property
    def worst(self) -> PhrasingResult:
        """The phrasing with the fewest passed checks (see `PhrasingResult.severity`)."""
        return self.phrasings[self.worst_phrasing]

    @property
    def failed_phrasings(self) -> list[tuple[int, PhrasingResult]]:
        """(index into `phrasings`, result) of every phrasing that failed a check."""
        return [(i, p) for i, p in enumerate(self.phrasings) if not p.passed]


class Summary(BaseModel):
    """Rates of one view of a run (the original phrasings, or the worst phrasing of each question)."""

    by_kind: dict[str, dict[str, Rate]]
    overall: dict[str, Rate]
    pass_rate: dict[str, Rate] = Field(description="Questions passing every check, by kind and 'all'.")
    false_refusal: dict[str, Rate] = Field(
        description="Share of answerable questions answered found=False, by kind and 'all' ('-' for refusal kinds)."
    )

    def metric(self, name: str) -> float | None:
        """The overall value of a check metric, `pass` or `false_refusal` (None when no question applied)."""
        if name == "pass":
            return self.pass_rate["all"].mean
        if name == "false_refusal":
            return self.false_refusal["all"].mean
        return self.overall[name].mean if name in self.overall else None


OUTCOMES = ("correct", "refused", "wrong_facts", "other_check", "unanswerable_refused", "unanswerable_answered")


def outcome(result: QuestionResult, phrasing: PhrasingResult) -> str:
    """What one phrasing got: for an answerable question `correct` (every check passed), `refused`, `wrong_facts`
    (answered without every gold fact) or `other_check` (facts right, another check failed, e.g. an extra source
    cited); for an unanswerable one `unanswerable_refused` or `unanswerable_answered`."""
    if result.kind in REFUSAL_KINDS:
        return "unanswerable_refused" if phrasing.passed else "unanswerable_answered"
    if phrasing.passed:
        return "correct"
    if not phrasing.answer.found:
        return "refused"
    facts = next((c for c in phrasing.checks if c.name == "fact_recall"), None)
    return "wrong_facts" if facts is not None and not facts.passed else "other_check"


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
    false_refusal: dict[str, Rate] = Field(description="Answerable questions answered found=False, by kind and 'all'.")
    worst: Summary = Field(description="The same rates over the worst phrasing of each question.")

    @property
    def original(self) -> Summary:
        """The rates of the questions as written (the top-level fields, kept there so their meaning is unchanged)."""
        return Summary(
            by_kind=self.by_kind, overall=self.overall, pass_rate=self.pass_rate, false_refusal=self.false_refusal
        )

    @property
    def phrasing_count(self) -> int:
        """Questions asked in all: every original and every variant."""
        return sum(len(r.phrasings) for r in self.results)

    def outcomes(self, variants: bool) -> dict[str, int]:
        """How many phrasings (the originals, or else every variant) got each outcome (see `outcome`), with the
        totals `answerable` and `unanswerable`: each phrasing on its own, where `worst` takes one per question."""
        counts = dict.fromkeys([*OUTCOMES, "answerable", "unanswerable"], 0)
        for r in self.results:
            for p in (r.variants if variants else [r]):
                counts[outcome(r, p)] += 1
                counts["unanswerable" if r.kind in REFUSAL_KINDS else "answerable"] += 1
        return counts

    def leads(self, variants: bool) -> dict[str, int]:
        """Of the found answers (originals, or else every variant): how many lead with a direct answer, how many
        of those are a single answer (not 'Sources differ') that can be judged against gold facts, and how many
        of those state one; and of the refusals of answerable questions, how many point to a passage stating a
        gold fact among the closest passages shown with them."""
        counts = dict.fromkeys(["found", "led", "judged", "right", "differ", "differ_right", "refused",
                                "pointed"], 0)
        for r in self.results:
            for p in (r.variants if variants else [r]):
                counts["refused"] += p.nearest_fact is not None
                counts["pointed"] += p.nearest_fact is True
                if p.answer.found:
                    counts["found"] += 1
                    counts["led"] += p.answer.lead is not None
                    counts["judged"] += p.lead_fact is not None
                    counts["right"] += p.lead_fact is True
                    counts["differ"] += p.differ_facts is not None
                    counts["differ_right"] += p.differ_facts is True
        return counts

    def metric(self, name: str) -> float | None:
        """The overall value of one metric of GATE_METRICS (None when no question applied or unknown)."""
        if name.startswith(WORST):
            return self.worst.metric(name.removeprefix(WORST))
        return self.original.metric(name)

    def gated_metric(self, name: str) -> float | None:
        """`metric` over the questions the CI gate counts (gold `gated: true`, the default)."""
        gated = [r for r in self.results if r.gated]
        if name.startswith(WORST):
            return summarize([(r.kind, r.worst) for r in gated]).metric(name.removeprefix(WORST))
        return summarize([(r.kind, r) for r in gated]).metric(name)


def score_question(
    gold: GoldQuestion, answer: Answer, retrieved: list[str], sources: scorers.SourceFiles, top_k: int
) -> list[scorers.Check]:
    """Every check that applies to this question's answer and retrieval."""
    checks = [
        scorers.fact_recall(answer, gold),
        scorers.sides_cited(answer, gold),
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


def summarize(scored: Sequence[tuple[str, PhrasingResult]]) -> Summary:
    """Rates per kind and overall for each metric, the all-checks pass rate and false-refusal rate per kind."""
    kinds: list[str] = [k for k in KINDS if any(kind == k for kind, _ in scored)]
    by_kind = {k: {m: Rate() for m in METRICS} for k in kinds}
    overall = {m: Rate() for m in METRICS}
    passing = {k: Rate() for k in [*kinds, "all"]}
    refused = {k: Rate() for k in [*kinds, "all"]}
    for kind, r in scored:
        for check in r.checks:
            by_kind[kind][check.name].add(check)
            overall[check.name].add(check)
        verdict = scorers.Check(name="pass", passed=r.passed, reason="")
        passing[kind].add(verdict)
        passing["all"].add(verdict)
        if kind not in REFUSAL_KINDS:
            # value 1 for a refusal, so the mean is the false-refusal rate (lower is better)
            wrong = not r.answer.found
            refusal = scorers.Check(name="false_refusal", passed=not wrong, reason="", value=float(wrong))
            refused[kind].add(refusal)
            refused["all"].add(refusal)
    return Summary(by_kind=by_kind, overall=overall, pass_rate=passing, false_refusal=refused)


def _ask(
    assistant: Target, gold: GoldQuestion, question: str, sources: scorers.SourceFiles, top_k: int
) -> PhrasingResult:
    """Ask one phrasing of a gold question with its history, retrieve for it, and score both."""
    t = time.perf_counter()
    answer = assistant.ask(question, gold.history)
    retrieved = scorers.ranked_sources(assistant.retrieve(question, gold.history))
    return PhrasingResult(
        question=question,
        answer=answer,
        retrieved=retrieved,
        checks=score_question(gold, answer, retrieved, sources, top_k),
        seconds=time.perf_counter() - t,
        lead_fact=scorers.lead_holds_fact(answer, gold),
        differ_facts=scorers.differ_holds_facts(answer, gold),
        nearest_fact=scorers.nearest_holds_fact(answer, gold),
    )


def run_eval(
    assistant: Target, gold: GoldSet, *, gold_file: Path = GOLD_FILE, progress: bool = True
) -> EvalReport:
    """Ask every gold question and each of its variants (with its history), retrieve for each, and score both."""
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
    total = sum(len(q.phrasings) for q in gold.questions)
    with tqdm(total=total, desc="Evaluating", unit="q", file=sys.stderr, disable=not progress) as bar:
        for q in gold.questions:
            asked: list[PhrasingResult] = []
            for text in q.phrasings:
                asked.append(_ask(assistant, q, text, sources, settings.top_k))
                bar.update()
            original, *variants = asked
            results.append(
                QuestionResult(
                    id=q.id,
                    kind=q.kind,
                    question=original.question,
                    history=q.history,
                    answer=original.answer,
                    retrieved=original.retrieved,
                    expected_sources=q.sources,
                    checks=original.checks,
                    seconds=original.seconds,
                    lead_fact=original.lead_fact,
                    differ_facts=original.differ_facts,
                    nearest_fact=original.nearest_fact,
                    variants=variants,
                    gated=q.gated,
                )
            )
    original_rates = summarize([(r.kind, r) for r in results])
    return EvalReport(
        created=datetime.now().astimezone(),
        generator=assistant.generator.name,
        gold_file=str(gold_file),
        corpus_dir=str(settings.corpus_dir),
        top_k=settings.top_k,
        index_seconds=index_seconds,
        seconds=time.perf_counter() - started,
        results=results,
        by_kind=original_rates.by_kind,
        overall=original_rates.overall,
        pass_rate=original_rates.pass_rate,
        false_refusal=original_rates.false_refusal,
        worst=summarize([(r.kind, r.worst) for r in results]),
    )
