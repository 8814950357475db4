"""The RealTime QA news benchmark: evidence-doc retrieval per retriever, and answer scores by question type.

Answer scores: today's accuracy, plus exact match / token F1 of the short lead, the multiple-choice pick, the median
answer length and the false-refusal rate (see short_answer.py). `answer_rows` and `summarize_answers` compute them
from (question, Answer) pairs without any retriever, for answers made elsewhere (e.g. per-fold models).

The data stays outside the repository (see its PROVENANCE.md); it is indexed into its own data dir and collection.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field, model_validator

from ..core import Assistant
from ..indexing import IndexState
from ..models import Answer
from ..retrieval import Retriever
from ..settings import Settings
from . import scorers, short_answer
from .gold import EvalFileError
from .short_answer import ShortAnswerScores, ShortAnswerSummary

DEPTH = 50  # passages each retriever returns for the rank metrics
RETRIEVERS = ("bm25", "dense", "hybrid")


class RTQAQuestion(BaseModel):
    """One benchmark question with its gold answer strings and evidence articles."""

    model_config = ConfigDict(extra="ignore")

    id: str
    question: str
    question_dated: str
    answers: list[str] = Field(min_length=1)
    evidence_docs: list[str] = Field(min_length=1)
    type: str
    time_sensitive: bool = False
    choices: list[str] = Field(default_factory=list, description="The quiz's multiple-choice options.")
    answer_index: int | None = Field(default=None, description="Index of the right option in `choices`.")

    @model_validator(mode="after")
    def _index_in_choices(self) -> RTQAQuestion:
        if self.answer_index is not None and self.choices and not 0 <= self.answer_index < len(self.choices):
            raise ValueError(f"answer_index {self.answer_index} is not an index of its {len(self.choices)} choices")
        return self

    def scores(self, answer: Answer) -> ShortAnswerScores:
        """Every answer score of `answer` to this question."""
        return short_answer.score_answer(answer, self.answers, self.evidence_docs, self.choices, self.answer_index)

    @property
    def query(self) -> str:
        """What is asked: time-sensitive questions carry their date ("(Asked on ...)") since the corpus spans years."""
        return self.question_dated if self.time_sensitive else self.question


class RetrievalScores(BaseModel):
    """Evidence-doc metrics of one retriever over the questions (documents ranked by their best passage)."""

    retriever: str
    recall_at_1: float
    recall_at_5: float
    mrr: float
    ms_per_query: float


class BenchItem(BaseModel):
    """One question: the first evidence rank per retriever, the answer and its verdict."""

    id: str
    type: str
    time_sensitive: bool
    query: str
    answers: list[str]
    evidence_docs: list[str]
    evidence_rank: dict[str, int | None] = Field(description="Rank of the first evidence doc, per retriever.")
    in_context: bool = Field(description="An evidence doc is among the passages the answerer saw (top_k, hybrid).")
    answer: Answer
    accuracy: scorers.Check
    seconds: float
    choices: list[str] = Field(default_factory=list)
    answer_index: int | None = None

    # Derived from the answer, so they can never disagree with it; computed fields are written to the JSON report.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def lead_em(self) -> float:
        """Exact match of `answer.lead` against the gold answers."""
        return short_answer.lead_exact_match(self.answer, self.answers)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lead_f1(self) -> float:
        """Token F1 of `answer.lead` against the gold answers."""
        return short_answer.lead_f1(self.answer, self.answers)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def mc_correct(self) -> bool | None:
        """The lead picks the right choice; None without choices."""
        return short_answer.choice_correct(self.answer, self.choices, self.answer_index)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def words(self) -> int:
        """Words of the answer text, markers removed."""
        return short_answer.word_count(self.answer.text)

    def scores(self) -> ShortAnswerScores:
        """This item's answer scores (accuracy as judged during the run)."""
        return ShortAnswerScores(accurate=self.accuracy.passed, found=self.answer.found, lead_em=self.lead_em,
                                 lead_f1=self.lead_f1, mc_correct=self.mc_correct, words=self.words)


class AccuracyRow(ShortAnswerSummary):
    """Answer accuracy, its parts and the short-answer scores for one group of questions."""

    group: str
    has_answer: float = Field(description="A gold answer string is in the answer text.")
    cites_evidence: float
    refused: float = Field(description="Share refused; equal to false_refusal, as every question is answerable.")
    in_context: float | None = Field(description="None when the answers were scored without retrieving (answer_rows).")


class BenchReport(BaseModel):
    """A whole benchmark run."""

    data: str
    questions_file: str
    generator: str
    top_k: int
    documents: int
    chunks: int
    index_seconds: float
    seconds: float
    retrieval: list[RetrievalScores]
    accuracy: list[AccuracyRow]
    items: list[BenchItem]


def load_questions(path: Path, limit: int | None = None) -> list[RTQAQuestion]:
    """Questions of a `questions*.jsonl` file; `limit` keeps a deterministic subset (lowest sha256 of the id)."""
    if not path.is_file():
        raise EvalFileError(f"Questions file {path} does not exist: pass --data (and --questions) correctly.")
    questions = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            questions.append(RTQAQuestion.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise EvalFileError(f"{path}, line {n}: not a benchmark question ({exc}).") from exc
    if limit is not None:
        keep = set(sorted((q.id for q in questions), key=lambda i: hashlib.sha256(i.encode()).hexdigest())[:limit])
        questions = [q for q in questions if q.id in keep]
    return questions


def bench_settings(base: Settings, data: Path) -> Settings:
    """The base settings pointed at the benchmark corpus, with its own data dir and collection."""
    return base.model_copy(
        update={"corpus_dir": data / "corpus", "data_dir": base.data_dir / "bench-rtqa", "collection": "rtqa"}
    )


def retrievers(assistant: Assistant) -> dict[str, Retriever]:
    """Dense alone and BM25 alone (the parts of the Assistant's own hybrid retriever), and the hybrid itself."""
    hybrid = assistant.retriever()  # builds the index if needed
    dense, bm25 = hybrid.retrievers
    return {"bm25": bm25, "dense": dense, "hybrid": hybrid}


def retrieval_scores(name: str, ranks: Sequence[int | None], seconds: float) -> RetrievalScores:
    """Recall@1/@5 (an evidence doc in the top k articles) and MRR from the first evidence rank per question."""
    n = max(len(ranks), 1)
    return RetrievalScores(
        retriever=name,
        recall_at_1=sum(r is not None and r <= 1 for r in ranks) / n,
        recall_at_5=sum(r is not None and r <= 5 for r in ranks) / n,
        mrr=sum(1 / r for r in ranks if r) / n,
        ms_per_query=1000 * seconds / n,
    )


class _Scored(BaseModel):
    """What the accuracy rows need of one answered question, from a bench item or a (question, answer) pair."""

    type: str
    time_sensitive: bool
    answers: list[str]
    evidence_docs: list[str]
    answer: Answer
    in_context: bool | None
    scores: ShortAnswerScores


def _group(name: str, items: Sequence[_Scored]) -> AccuracyRow:
    n = len(items)

    def share(pred: Callable[[_Scored], bool]) -> float:
        return sum(map(pred, items)) / n if n else 0.0

    retrieved = all(i.in_context is not None for i in items)
    return AccuracyRow(
        **short_answer.summarize([i.scores for i in items]).model_dump(),
        group=name,
        has_answer=share(lambda i: i.answer.found and scorers.contains_answer(i.answer.text, i.answers) is not None),
        cites_evidence=share(lambda i: bool({c.source_id for c in i.answer.citations} & set(i.evidence_docs))),
        refused=share(lambda i: not i.answer.found),
        in_context=share(lambda i: bool(i.in_context)) if retrieved else None,
    )


def _rows(items: Sequence[_Scored]) -> list[AccuracyRow]:
    types = sorted({i.type for i in items}, key=lambda t: (-sum(i.type == t for i in items), t))
    rows = [_group("all", items)]
    rows += [_group("time-sensitive", [i for i in items if i.time_sensitive])]
    rows += [_group("not time-sensitive", [i for i in items if not i.time_sensitive])]
    return rows + [_group(f"type: {t}", [i for i in items if i.type == t]) for t in types]


def accuracy_rows(items: Sequence[BenchItem]) -> list[AccuracyRow]:
    """Overall, by time sensitivity, and by question type (largest first)."""
    return _rows([
        _Scored(type=i.type, time_sensitive=i.time_sensitive, answers=i.answers, evidence_docs=i.evidence_docs,
                answer=i.answer, in_context=i.in_context, scores=i.scores())
        for i in items
    ])


def _pairs(questions: Sequence[RTQAQuestion], answers: Sequence[Answer]) -> list[tuple[RTQAQuestion, Answer]]:
    if len(questions) != len(answers):
        raise ValueError(f"{len(questions)} questions but {len(answers)} answers: pass one answer per question")
    return list(zip(questions, answers, strict=True))


def answer_rows(questions: Sequence[RTQAQuestion], answers: Sequence[Answer]) -> list[AccuracyRow]:
    """The rows of `accuracy_rows` for answers made elsewhere (answers[i] answers questions[i]); in_context is None."""
    return _rows([
        _Scored(type=q.type, time_sensitive=q.time_sensitive, answers=q.answers, evidence_docs=q.evidence_docs,
                answer=a, in_context=None, scores=q.scores(a))
        for q, a in _pairs(questions, answers)
    ])


def summarize_answers(questions: Sequence[RTQAQuestion], answers: Sequence[Answer]) -> ShortAnswerSummary:
    """Accuracy, lead EM/F1, MC accuracy, median words and false refusals of answers[i] to questions[i]."""
    return short_answer.summarize([q.scores(a) for q, a in _pairs(questions, answers)])


def run_rtqa(
    assistant: Assistant,
    questions: Sequence[RTQAQuestion],
    *,
    data: Path,
    questions_file: Path,
    progress: bool = True,
) -> BenchReport:
    """Index the benchmark corpus (incrementally), then score every retriever and the answerer per question."""
    from tqdm import tqdm

    started = time.perf_counter()
    bar: tqdm | None = None

    def on_doc(source_id: str, done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="Indexing", unit="doc", file=sys.stderr, disable=not progress)
        bar.update(done - bar.n)  # called when a batch starts too: the count, not the calls

    assistant.index(progress=on_doc)
    if bar is not None:
        bar.close()
    found = retrievers(assistant)
    assistant.embedder.embed_query("warm up")  # load the model now, not inside the first timed query
    index_seconds = time.perf_counter() - started
    spent = dict.fromkeys(found, 0.0)
    items: list[BenchItem] = []
    for q in tqdm(questions, desc="Benchmark", unit="q", file=sys.stderr, disable=not progress):
        t0 = time.perf_counter()
        evidence_rank: dict[str, int | None] = {}
        for name, retriever in found.items():
            t = time.perf_counter()
            passages = retriever.retrieve(q.query, DEPTH)
            spent[name] += time.perf_counter() - t
            evidence_rank[name] = scorers.first_rank(scorers.ranked_sources(passages), q.evidence_docs)
        # Exactly the passages `ask` hands the answerer (fusing fewer candidates than at DEPTH can reorder them).
        in_context = bool(set(scorers.ranked_sources(assistant.retrieve(q.query))) & set(q.evidence_docs))
        answer = assistant.ask(q.query)
        items.append(
            BenchItem(
                id=q.id,
                type=q.type,
                time_sensitive=q.time_sensitive,
                query=q.query,
                answers=q.answers,
                evidence_docs=q.evidence_docs,
                evidence_rank=evidence_rank,
                in_context=in_context,
                answer=answer,
                accuracy=scorers.answer_accuracy(answer, q.answers, q.evidence_docs),
                seconds=time.perf_counter() - t0,
                choices=q.choices,
                answer_index=q.answer_index,
            )
        )
    retrieval = [retrieval_scores(name, [i.evidence_rank[name] for i in items], spent[name]) for name in found]
    state = IndexState.load(assistant.settings.data_dir)
    return BenchReport(
        data=str(data),
        questions_file=str(questions_file),
        generator=assistant.generator.name,
        top_k=assistant.settings.top_k,
        documents=len(state.docs) if state else 0,
        chunks=len(state.chunk_ids) if state else 0,
        index_seconds=index_seconds,
        seconds=time.perf_counter() - started,
        retrieval=retrieval,
        accuracy=accuracy_rows(items),
        items=items,
    )


def format_bench(report: BenchReport) -> str:
    """The retrieval table (per retriever) and the accuracy table (overall, by time sensitivity, by type)."""
    lines = [
        f"RealTime QA news: {len(report.items)} questions from {Path(report.questions_file).name}; "
        f"{report.documents:,} articles, {report.chunks:,} chunks",
        f"time: {report.seconds:.0f}s (index and retriever setup {report.index_seconds:.0f}s)",
        "",
        f"Evidence-doc retrieval (articles ranked by their best passage, top {DEPTH} passages)",
        f"{'retriever':<10}{'recall@1':>10}{'recall@5':>10}{'MRR':>8}{'ms/query':>10}",
    ]
    for r in report.retrieval:
        lines.append(f"{r.retriever:<10}{r.recall_at_1:>10.3f}{r.recall_at_5:>10.3f}{r.mrr:>8.3f}{r.ms_per_query:>10.0f}")
    lines += [
        "",
        f"Answer accuracy (generator: {report.generator}): gold answer in the answer and an evidence doc cited",
        format_rows(report.accuracy, report.top_k),
    ]
    return "\n".join(lines)


def _rate(value: float | None, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.3f}"


def format_rows(rows: Sequence[AccuracyRow], top_k: int | None = None) -> str:
    """The accuracy table: today's columns, then lead EM/F1, multiple-choice accuracy and median words."""
    lines = [
        f"{'group':<26}{'n':>5}{'accuracy':>10}{'has ans':>9}{'cites ev':>10}{'refused':>9}"
        f"{f'ev@top{top_k}' if top_k else 'ev@top-k':>10}{'lead EM':>9}{'lead F1':>9}{'MC acc':>8}{'words':>7}",
    ]
    for a in rows:
        lines.append(
            f"{a.group:<26}{a.n:>5}{a.accuracy:>10.3f}{a.has_answer:>9.3f}{a.cites_evidence:>10.3f}"
            f"{a.refused:>9.3f}{_rate(a.in_context, 10)}{a.lead_em:>9.3f}{a.lead_f1:>9.3f}{_rate(a.mc_accuracy, 8)}"
            f"{a.median_words:>7.0f}"
        )
    lines += [
        "refused: false refusals (every question is answerable); lead EM/F1: SQuAD-style, of the answer's first line;",
        "MC acc: the choice the lead matches best is the right one; words: median answer length",
    ]
    return "\n".join(lines)
