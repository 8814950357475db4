"""Build and answer timings on the seed corpus, each answerer side by side: prints numbers, writes JSON.

Usage: .venv/bin/python bench/latency.py [--runs 20] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from assistant import Assistant, Settings, lexicon, tagging
from assistant.evaluation.gold import load_gold
from assistant.generation import OFFLINE_GENERATORS

QUESTIONS = [
    "Who did Iran blame?", "Was al-Kadhimi hurt?", "How many drones were used?", "What did Biden say?",
    "Who is Qais al-Khazali?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        started = time.perf_counter()
        assistant = Assistant(settings)
        first = assistant.index()
        cold_build = time.perf_counter() - started
        noop = assistant.index()
        started = time.perf_counter()
        lexicon.load()  # read once per process (the UI does it while warming up): timed on their own
        tagging.load()
        lexicon_load = time.perf_counter() - started
        started = time.perf_counter()
        assistant.ask(QUESTIONS[0])
        first_ask = time.perf_counter() - started
        for generator in OFFLINE_GENERATORS:  # the same index and model, one answerer after the other
            bot = Assistant(settings.model_copy(update={"generator": generator}), embedder=assistant.embedder)
            for q in QUESTIONS:  # warm-up: every question once
                bot.ask(q)
            times = []
            for i in range(args.runs):
                started = time.perf_counter()
                bot.ask(QUESTIONS[i % len(QUESTIONS)])
                times.append(time.perf_counter() - started)
            fresh = []  # questions never asked before: their sentences are not yet embedded
            for q in load_gold().questions:
                started = time.perf_counter()
                bot.ask(q.question, q.history)
                fresh.append(time.perf_counter() - started)
            results[f"{generator}_warm_p50_ms"] = statistics.median(times) * 1000
            results[f"{generator}_warm_p90_ms"] = sorted(times)[int(0.9 * len(times)) - 1] * 1000
            results[f"{generator}_fresh_median_ms"] = statistics.median(fresh) * 1000
            results[f"{generator}_fresh_max_ms"] = max(fresh) * 1000
    print(f"first build (model load + {len(first.added)} docs, {first.chunks} chunks): {cold_build:.2f} s "
          f"(of which build {first.seconds:.2f} s)")
    print(f"no-op re-index: {noop.seconds:.3f} s ({noop.seconds / first.seconds:.3f} x the first build)")
    print(f"reading WordNet and the tagger, once per process: {lexicon_load:.2f} s")
    print(f"first ask (loads BM25 + retriever): {first_ask:.3f} s")
    for generator in OFFLINE_GENERATORS:
        print(f"{generator}: warm ask over {args.runs} runs: median {results[f'{generator}_warm_p50_ms']:.0f} ms, "
              f"p90 {results[f'{generator}_warm_p90_ms']:.0f} ms; first-time gold questions: median "
              f"{results[f'{generator}_fresh_median_ms']:.0f} ms, max {results[f'{generator}_fresh_max_ms']:.0f} ms")
    results.update(cold_build_s=cold_build, noop_reindex_s=noop.seconds, lexicon_load_s=lexicon_load,
                   first_ask_s=first_ask)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
