"""Calibrate the reader on RealTime QA dev and measure the reader answerer out of fold.

    python -m training.calibrate_reader --data ../shared/bench/realtimeqa_news      (part of make train-reader)

Each question's passages are BM25's best `top_k` (8) chunks of the benchmark corpus, chunked as the index chunks it (the
hybrid index of 2,762 articles takes half an hour to build on 2 cores; BM25 alone retrieves the evidence at least
as well here: recall@5 0.931 against the hybrid's 0.906), and the reader reads those passages once. Each question
is also read over the next question's passages (off topic: the answer is not there). From these spans:
- a logistic fit maps a span's margin and its passage's retrieval rank to P(the span is a gold answer: token
  F1 >= SPAN_POSITIVE_F1);
- the no-answer threshold is the highest pooled support that refuses at most FALSE_REFUSAL_BUDGET of the questions
  whose gold answer is in the passages;
- `near` (closest passages shown with a refusal) is the NEAR_QUANTILE of the best probability off topic.
Five folds by question: each fold's calibration answers its own fifth through `ReaderGenerator.answer`, the code
that answers users, and those answers are scored (models/reader/calibration.json holds the scores, and the
calibration fitted on all questions).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.chunking import chunk_document
from assistant.conversation import Query
from assistant.corpus import read_corpus
from assistant.evaluation.rtqa import RTQAQuestion, load_questions, summarize_answers
from assistant.evaluation.short_answer import token_f1
from assistant.models import Answer, Passage
from assistant.reader import MODEL_DIR, WEIGHTS, Calibration, Reader, Span, load_tokenizer, sha256
from assistant.reading import ReaderGenerator, pool
from assistant.retrieval import BM25Retriever
from assistant.settings import Settings
from assistant.store import StoredChunk
from assistant.text import normalize_answer

ROOT = Path(__file__).resolve().parent.parent
FOLDS = 5
SPAN_POSITIVE_F1 = 0.5  # a span sharing half its words with a gold answer is that answer
FALSE_REFUSAL_BUDGET = 0.05  # the product's target: at most 5% of questions whose answer is in reach refused
NEAR_QUANTILE = 0.95  # a closest passage shown with a refusal beats the best off-topic span of 95% of questions


@dataclass
class Read:
    """One question's passages and what the reader found in them."""

    question: RTQAQuestion
    passages: list[Passage]
    spans: list[Span]
    off_passages: list[Passage]
    off_spans: list[Span]

    @property
    def in_reach(self) -> bool:
        """A gold answer is in the passages."""
        text = normalize_answer(" ".join(p.text for p in self.passages))
        return any(normalize_answer(a) and f" {normalize_answer(a)} " in f" {text} " for a in self.question.answers)


class _Replay:
    """A SpanReader that returns what the real reader found, under a given calibration."""

    def __init__(self, spans: list[Span], calibration: Calibration) -> None:
        self.spans, self._calibration = spans, calibration

    @property
    def calibration(self) -> Calibration:
        return self._calibration

    def read(self, question: str, passages: Sequence[str]) -> list[Span]:
        return self.spans


def fold(question_id: str) -> int:
    return int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % FOLDS


def read_all(data: Path, cache: Path, model_dir: Path = MODEL_DIR, limit: int | None = None) -> list[Read]:
    """Every question's passages and spans, cached by the weights' hash (the reader is the slow part)."""
    key = f"{sha256(model_dir / WEIGHTS)}-{limit}"
    if cache.exists():
        stored = pickle.loads(cache.read_bytes())
        if stored.get("key") == key:
            return list(stored["reads"])
    from tqdm import tqdm

    questions = load_questions(data / "questions_dev.jsonl", limit)
    retriever = bm25(data / "corpus")
    reader = Reader(model_dir)
    top_k = Settings().top_k
    passages = [retriever.retrieve(q.query, top_k) for q in tqdm(questions, desc="retrieve", file=sys.stderr)]
    reads: list[Read] = []
    for i, q in enumerate(tqdm(questions, desc="read", file=sys.stderr)):
        off = passages[(i + 1) % len(questions)]
        off = [p for p in off if p.source_id not in q.evidence_docs]
        reads.append(Read(q, passages[i], reader.read(q.query, [p.text for p in passages[i]]), off,
                          reader.read(q.query, [p.text for p in off])))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps({"key": key, "reads": reads}))
    return reads


def bm25(corpus: Path) -> BM25Retriever:
    """BM25 over the corpus's chunks, cut as the index cuts them (MiniLM tokens, Settings().chunk_tokens)."""
    tokenizer = load_tokenizer()

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"])

    docs, _ = read_corpus(corpus)
    chunks = [StoredChunk(chunk_id=c.chunk_id, source_id=d.source_id, title=d.title, outlet=d.outlet, date=d.date,
                          text=c.text, start=c.start)
              for d in docs for c in chunk_document(d, count, Settings().chunk_tokens)]
    return BM25Retriever(chunks)


def labelled(reads: Sequence[Read]) -> tuple[np.ndarray, np.ndarray]:
    """(margin, passage rank) of every span (on topic and off), labelled 1 where the span is a gold answer."""
    rows, labels = [], []
    for r in reads:
        for s in r.spans:
            rows.append((s.margin, s.passage))
            labels.append(token_f1(s.text, r.question.answers) >= SPAN_POSITIVE_F1)
        for s in r.off_spans:
            rows.append((s.margin, s.passage))
            labels.append(False)
    return np.asarray(rows, dtype=float), np.asarray(labels, dtype=int)


def support(r: Read, calibration: Calibration, off: bool = False) -> float:
    """The pooled support of the best answer the reader answerer would give."""
    generator = ReaderGenerator(_Replay(r.off_spans if off else r.spans, calibration))
    pools = pool(generator.read(r.question.query, r.off_passages if off else r.passages))
    return pools[0].support if pools else 0.0


def fit(reads: Sequence[Read]) -> Calibration:
    """Platt scaling, then the threshold and the closest-passage floor under it."""
    from sklearn.linear_model import LogisticRegression

    rows, labels = labelled(reads)
    model = LogisticRegression(C=100.0).fit(rows, labels)
    platt = Calibration(scale=float(model.coef_[0][0]), rank=float(model.coef_[0][1]),
                        bias=float(model.intercept_[0]), threshold=0.0, near=1.0)
    reach = sorted(support(r, platt) for r in reads if r.in_reach)
    threshold = reach[int(FALSE_REFUSAL_BUDGET * len(reach))] if reach else 0.5
    off_best = sorted(max((platt.probability(s.margin, s.passage) for s in r.off_spans), default=0.0) for r in reads)
    near = off_best[min(len(off_best) - 1, int(NEAR_QUANTILE * len(off_best)))]
    return Calibration(scale=platt.scale, rank=platt.rank, bias=platt.bias, threshold=threshold, near=near)


def answer(r: Read, calibration: Calibration, off: bool = False) -> Answer:
    generator = ReaderGenerator(_Replay(r.off_spans if off else r.spans, calibration))
    return generator.answer(Query.plain(r.question.query), r.off_passages if off else r.passages)


def cross_validate(reads: Sequence[Read]) -> dict[str, float]:
    """Each fold answered under the calibration fitted on the other four."""
    answers: dict[str, Answer] = {}
    off_refused = 0
    for k in range(FOLDS):
        calibration = fit([r for r in reads if fold(r.question.id) != k])
        for r in reads:
            if fold(r.question.id) == k:
                answers[r.question.id] = answer(r, calibration)
                off_refused += not answer(r, calibration, off=True).found
    questions = [r.question for r in reads]
    summary = summarize_answers(questions, [answers[q.id] for q in questions])
    scores = {k: round(float(v), 4) for k, v in summary.model_dump().items() if isinstance(v, int | float)}
    scores["off_topic_refused"] = round(off_refused / len(reads), 4)
    scores["in_reach"] = round(sum(r.in_reach for r in reads) / len(reads), 4)
    return scores


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "realtimeqa_news")
    parser.add_argument("--cache", type=Path, default=ROOT / ".newsdesk" / "calibrate-reader" / "reads.pkl")
    parser.add_argument("--model", type=Path, default=MODEL_DIR, help="the reader's folder (written to)")
    parser.add_argument("--limit", type=int, help="a deterministic subset of N questions, for quick checks")
    args = parser.parse_args(argv)
    if not (args.data / "questions_dev.jsonl").exists():
        sys.exit(f"{args.data} holds no questions_dev.jsonl: pass --data pointing at realtimeqa_news")
    reads = read_all(args.data, args.cache, args.model, args.limit)
    cv = cross_validate(reads)
    final = fit(reads)
    out = {"scale": final.scale, "rank": final.rank, "bias": final.bias, "threshold": final.threshold,
           "near": final.near, "weights_sha256": sha256(args.model / WEIGHTS), "cross_validated": cv,
           "fitted_on": f"RealTime QA dev, {len(reads)} questions (5-fold CV by question for the scores)"}
    (args.model / "calibration.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
