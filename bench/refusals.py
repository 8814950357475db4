"""Why reworded questions are refused: where the answering sentence ranks, and whether any refusal floor could
tell them from the unanswerable ones. Prints numbers, writes JSON.

Usage: .venv/bin/python bench/refusals.py [--phrasings evals/heldout.yaml] [--json PATH]

For every phrasing of the gold questions (the originals left out: these are about rewordings) it records the
default answerer's best sentence score, the learned answerer's best sentence probability, and, for answerable
questions, the rank of the first candidate sentence stating a gold fact and whether the answer given states them
all. Read from the numbers:
- failures: of the answerable rewordings answered without their facts (refused or wrong), how many had a sentence
  stating a gold fact among the default's candidates, and among its best three;
- separation: the area under the ROC curve of each score for answerable against unanswerable rewordings (1.0: some
  floor refuses exactly the unanswerable ones; 0.5: chance);
- floors: at each floor on the default's score, the share of answerable rewordings refused and of unanswerable
  ones answered (the targets are at most 2% and none).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant import Assistant, Settings
from assistant.evaluation.gold import GoldQuestion, load_gold, with_phrasings
from assistant.evaluation.scorers import fact_recall
from assistant.extractive import ExtractiveGenerator
from assistant.learned import LearnedGenerator
from assistant.text import flatten

FLOORS = [0.30, 0.35, 0.40, 0.45, 0.50]  # around the default's refusal floor (0.45)
TOP = 3  # "among the best three": what a reader scanning an answer of up to three claims would see


def auc(positive: list[float], negative: list[float]) -> float | None:
    """P(a positive scores above a negative), ties counting half: the area under the ROC curve."""
    if not positive or not negative:
        return None
    p, n = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def states(text: str, gold: GoldQuestion) -> bool:
    """The text states at least one of the question's gold facts."""
    flat = flatten(text)
    return any(re.search(p, flat, re.IGNORECASE) for alts in gold.facts for p in alts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phrasings", type=Path, help="other phrasings to use instead of the gold file's variants")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    gold = load_gold() if args.phrasings is None else with_phrasings(load_gold(), args.phrasings)
    assistant = Assistant(Settings(generator="extractive"))
    assistant.index()
    default = assistant.generator
    assert isinstance(default, ExtractiveGenerator)
    learned = LearnedGenerator(assistant.embedder)
    rows = []
    asked = [(g, text) for g in gold.questions for text in g.variants]
    for g, text in tqdm(asked, desc="Rewordings", unit="q"):
        query = assistant.resolve(text, g.history)
        passages = assistant.retrieve(text, g.history)
        ranked = default.rank(default.wording(query), passages)
        probs = learned.rank(learned.prepare(query, passages), learned.model)
        row = {"id": g.id, "answerable": g.answerable, "kind": g.kind, "score": ranked[0].score if ranked else 0.0,
               "probability": float(probs[0].probability) if probs else 0.0}
        if g.answerable:
            answer = assistant.ask(text, g.history)
            check = fact_recall(answer, g)
            row.update(found=answer.found, right=bool(check and check.passed),
                       fact_rank=next((i for i, c in enumerate(ranked) if states(c.text, g)), None))
        rows.append(row)
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if r["kind"] == "unanswerable"]  # on topic: noise is refused by any floor
    failed = [r for r in answerable if not r["right"]]
    failures = {name: {"n": len(group), "fact_in_pool": sum(r["fact_rank"] is not None for r in group),
                       "fact_in_top": sum(r["fact_rank"] is not None and r["fact_rank"] < TOP for r in group)}
                for name, group in (("refused", [r for r in failed if not r["found"]]),
                                    ("wrong", [r for r in failed if r["found"]]))}
    aucs = {key: auc([r[key] for r in answerable], [r[key] for r in unanswerable]) for key in ("score", "probability")}
    floors = {f"{floor:.2f}": {
        "answerable_refused": sum(r["score"] < floor for r in answerable) / max(1, len(answerable)),
        "unanswerable_answered": sum(r["score"] >= floor for r in unanswerable) / max(1, len(unanswerable)),
    } for floor in FLOORS}
    print(f"{len(answerable)} answerable and {len(unanswerable)} unanswerable rewordings "
          f"({args.phrasings or 'the gold file variants'})")
    for name, f in failures.items():
        print(f"  {name:8s} {f['n']:3d}: a sentence stating a gold fact among the candidates in {f['fact_in_pool']}, "
              f"among the best {TOP} in {f['fact_in_top']}")
    print("separation of answerable from unanswerable (ROC AUC): "
          + ", ".join(f"{key} {value:.3f}" for key, value in aucs.items() if value is not None))
    print("floor on the default's score: answerable refused / unanswerable answered")
    for floor, f in floors.items():
        print(f"  {floor}: {f['answerable_refused']:.0%} / {f['unanswerable_answered']:.0%}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        summary = {"phrasings": str(args.phrasings or "variants"), "answerable": len(answerable),
                   "unanswerable": len(unanswerable), "top": TOP, "failures": failures, "auc": aucs, "floors": floors}
        args.json.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")

if __name__ == "__main__":
    main()
