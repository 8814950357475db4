"""The RealTime QA news benchmark: evidence-doc retrieval per retriever, and answer accuracy by question type.

The data stays outside the repository (see its PROVENANCE.md); it is indexed into its own data dir and collection.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core import Assistant
from ..indexing import IndexState
from ..models import Answer
from ..retrieval import Retriever
from ..settings import Settings
from . import scorers
from .gold import EvalFileError

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


class AccuracyRow(BaseModel):
    """Answer accuracy and its parts for one group of questions."""

    group: str
    n: int
    accuracy: float
    has_answer: float = Field(description="A gold answer string is in the answer text.")
    cites_evidence: float
    refused: float
    in_context: float


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


def _group(name: str, items: Sequence[BenchItem]) -> AccuracyRow:
    n = len(items)

    def share(pred: Callable[[BenchItem], bool]) -> float:
        return sum(map(pred, items)) / n if n else 0.0

    return AccuracyRow(
        group=name,
        n=n,
        accuracy=share(lambda i: i.accuracy.passed),
        has_answer=share(lambda i: i.answer.found and scorers.contains_answer(i.answer.text, i.answers) is not None),
        cites_evidence=share(lambda i: bool({c.source_id for c in i.answer.citations} & set(i.evidence_docs))),
        refused=share(lambda i: not i.answer.found),
        in_context=share(lambda i: i.in_context),
    )


def accuracy_rows(items: Sequence[BenchItem]) -> list[AccuracyRow]:
    """Overall, by time sensitivity, and by question type (largest first)."""
    types = sorted({i.type for i in items}, key=lambda t: (-sum(i.type == t for i in items), t))
    rows = [_group("all", items)]
    rows += [_group("time-sensitive", [i for i in items if i.time_sensitive])]
    rows += [_group("not time-sensitive", [i for i in items if not i.time_sensitive])]
    return rows + [_group(f"type: {t}", [i for i in items if i.type == t]) for t in types]


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
        bar.update(1)

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
        f"{'group':<26}{'n':>5}{'accuracy':>10}{'has ans':>9}{'cites ev':>10}{'refused':>9}"
        f"{f'ev@top{report.top_k}':>10}",
    ]
    for a in report.accuracy:
        lines.append(
            f"{a.group:<26}{a.n:>5}{a.accuracy:>10.3f}{a.has_answer:>9.3f}{a.cites_evidence:>10.3f}"
            f"{a.refused:>9.3f}{a.in_context:>10.3f}"
        )
    return "\n".join(lines)
