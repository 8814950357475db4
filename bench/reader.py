"""The reader in fp32 and int8, side by side in one run: validation scores, reading speed, and answer time over
RealTime QA passages. Prints a table, writes JSON.

Usage: .venv/bin/python bench/reader.py [--train ../shared/train] [--rtqa ../shared/bench/realtimeqa_news]
                                        [--questions 100] [--json bench/results/reader.json]

- validation: the training script's held-out sets (New York Times articles never trained on: EM/F1; SQuAD 2.0
  articles never trained on: no-answer accuracy), scored by the training script's own `validate`, with no answer
  at the model's own boundary (margin 0) and at the shipped threshold (the margin whose calibrated probability, in
  the first passage, is the no-answer threshold: what one source alone needs to be answered);
- speed: windows read per second, question + passage windows of the held-out NYT set, batch as the answerer reads;
- answer time: `ReaderGenerator.answer` over BM25's top 8 passages of the 2,762 RealTime QA articles (the
  reader's share of an ask at that scale; retrieval is timed on its own).
int8 replaces fp32 only if it keeps every validation score within MAX_DROP.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.conversation import Query  # noqa: E402
from assistant.evaluation.rtqa import load_questions  # noqa: E402
from assistant.reader import Reader, encode  # noqa: E402
from assistant.reading import ReaderGenerator  # noqa: E402
from training import reader as training  # noqa: E402
from training.calibrate_reader import bm25  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MAX_DROP = 0.01  # one point


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=Path, default=ROOT.parent / "shared" / "train")
    parser.add_argument("--rtqa", type=Path, default=ROOT.parent / "shared" / "bench" / "realtimeqa_news")
    parser.add_argument("--questions", type=int, default=100, help="RealTime QA questions timed")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "reader.json")
    args = parser.parse_args()
    _, val_nyt, val_squad = training.load_data(args.train)
    readers = {"fp32": Reader(), "int8": Reader(int8=True)}
    results: dict[str, Any] = {}
    questions = load_questions(args.rtqa / "questions_dev.jsonl", args.questions)
    retriever = bm25(args.rtqa / "corpus")
    t0 = time.perf_counter()
    passages = [retriever.retrieve(q.query, 8) for q in questions]
    retrieval_ms = (time.perf_counter() - t0) / len(questions) * 1000
    texts = [e.context for e in val_nyt[:200]]
    cal = readers["fp32"].calibration
    threshold_margin = (math.log(cal.threshold / (1 - cal.threshold)) - cal.bias) / cal.scale
    for name, reader in readers.items():
        tokenizer = reader._tokenizer
        scores = training.validate(reader._model, tokenizer, val_nyt, val_squad)
        at = training.validate(reader._model, tokenizer, [], val_squad, threshold_margin)
        scores["squad2_no_answer_accuracy_at_threshold"] = at["squad2_no_answer_accuracy"]
        scores["squad2_answerable_answered_at_threshold"] = at["squad2_answerable_answered"]
        features = encode(tokenizer, [e.question for e in val_nyt[:200]], texts)
        windows = len(features["input_ids"])
        reader.read(val_nyt[0].question, texts[:4])  # warm up
        started = time.perf_counter()
        for e in val_nyt[:200]:
            reader.read(e.question, [e.context])
        per_s = windows / (time.perf_counter() - started)
        generator = ReaderGenerator(reader)
        times = []
        for q, ps in zip(questions, passages, strict=True):
            started = time.perf_counter()
            generator.answer(Query.plain(q.query), ps)
            times.append(time.perf_counter() - started)
        results[name] = {**scores, "windows_per_s": round(per_s, 1),
                         "answer_p50_ms": round(statistics.median(times) * 1000),
                         "answer_p95_ms": round(percentile(times, 0.95) * 1000)}
    results["bm25_retrieval_ms"] = round(retrieval_ms, 1)
    drops = {k: results["fp32"][k] - results["int8"][k]
             for k in ("nyt_em", "nyt_f1", "squad2_no_answer_accuracy")}
    results["int8_within_one_point"] = all(d <= MAX_DROP for d in drops.values())
    results["threshold_margin"] = round(threshold_margin, 3)
    for name in readers:
        print(name, json.dumps(results[name]))
    print(f"BM25 retrieval over the RealTime QA chunks: {retrieval_ms:.1f} ms a question; int8 within one point: "
          f"{results['int8_within_one_point']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
