"""Build and answer timings for the default stack on the seed corpus: prints numbers, asserts nothing.

Usage: .venv/bin/python bench/latency.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from assistant import Assistant, Settings
from assistant.evaluation.gold import load_gold

QUESTIONS = [
    "Who did Iran blame?", "Was al-Kadhimi hurt?", "How many drones were used?", "What did Biden say?",
    "Who is Qais al-Khazali?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        started = time.perf_counter()
        assistant = Assistant(settings)
        first = assistant.index()
        cold_build = time.perf_counter() - started
        noop = assistant.index()
        started = time.perf_counter()
        assistant.ask(QUESTIONS[0])
        first_ask = time.perf_counter() - started
        for q in QUESTIONS:  # warm-up: every question once
            assistant.ask(q)
        times = []
        for i in range(args.runs):
            started = time.perf_counter()
            assistant.ask(QUESTIONS[i % len(QUESTIONS)])
            times.append(time.perf_counter() - started)
        fresh = []  # questions never asked before: their sentences are not yet embedded
        for q in load_gold().questions:
            started = time.perf_counter()
            assistant.ask(q.question, q.history)
            fresh.append(time.perf_counter() - started)
    print(f"first build (model load + {len(first.added)} docs, {first.chunks} chunks): {cold_build:.2f} s "
          f"(of which build {first.seconds:.2f} s)")
    print(f"no-op re-index: {noop.seconds:.3f} s ({noop.seconds / first.seconds:.3f} x the first build)")
    print(f"first ask (loads BM25 + retriever): {first_ask:.3f} s")
    print(f"warm ask over {args.runs} runs: median {statistics.median(times) * 1000:.0f} ms, "
          f"p90 {sorted(times)[int(0.9 * len(times)) - 1] * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
    print(f"first-time questions ({len(fresh)} gold questions, each once): median "
          f"{statistics.median(fresh) * 1000:.0f} ms, max {max(fresh) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
