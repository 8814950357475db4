"""The `assistant eval` and `assistant bench rtqa` subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core import Assistant
from ..generation import GENERATORS
from .gold import GOLD_FILE


def _with_generator(assistant: Assistant, generator: str | None, **updates: Any) -> Assistant:
    """The same Assistant, or one with other settings (the embedder is shared: the model loads once)."""
    if generator:
        updates["generator"] = generator
    if not updates:
        return assistant
    return Assistant(assistant.settings.model_copy(update=updates), embedder=assistant.embedder)


def _eval(assistant: Assistant, args: argparse.Namespace) -> int:
    from .gate import THRESHOLDS_FILE, gate_failures, load_thresholds
    from .gold import load_gold, with_phrasings
    from .report import format_table, write_reports
    from .runner import run_eval

    gold_file = Path(args.gold)
    gold = load_gold(gold_file)
    thresholds = load_thresholds(Path(args.thresholds) if args.thresholds else THRESHOLDS_FILE)
    if args.phrasings:
        gold = with_phrasings(gold, Path(args.phrasings))
    if args.originals:
        gold = gold.model_copy(update={"questions": [q.model_copy(update={"variants": []}) for q in gold.questions]})
    report = run_eval(_with_generator(assistant, args.generator), gold, gold_file=gold_file)
    print(format_table(report))
    paths = write_reports(report, Path(args.out))
    print(f"\nReports: {paths.markdown} (failures), {paths.json_path}, {paths.chart}; latest: {paths.latest_markdown}")
    below = gate_failures(report, thresholds)
    for line in below:
        print(f"below threshold: {line}")
    return 1 if below and args.strict else 0


def _bench(assistant: Assistant, args: argparse.Namespace) -> int:
    from .rtqa import bench_settings, format_bench, load_questions, run_rtqa

    data = Path(args.bench_data)
    questions_file = Path(args.questions) if args.questions else data / "questions_dev.jsonl"
    questions = load_questions(questions_file, args.limit)
    settings = bench_settings(assistant.settings, data)
    bench = _with_generator(assistant, args.generator, **settings.model_dump(include={"corpus_dir", "data_dir",
                                                                                     "collection"}))
    report = run_rtqa(bench, questions, data=data, questions_file=questions_file)
    print(format_bench(report))
    if args.json:
        Path(args.json).write_text(report.model_dump_json(indent=1), encoding="utf-8")
        print(f"\nResults: {args.json}")
    return 0


def add_eval_commands(sub: Any) -> None:
    """Register `eval` and `bench` on the `assistant` command's subparsers."""
    from .report import REPORTS_DIR

    p = sub.add_parser("eval", help="score the answerer on the gold facts (evals/gold.yaml) and write reports")
    p.add_argument("--gold", default=str(GOLD_FILE), help="gold YAML file (default: evals/gold.yaml)")
    p.add_argument("--generator", choices=GENERATORS, help="answerer to evaluate (default: settings)")
    p.add_argument("--out", default=str(REPORTS_DIR), help="report folder (default: evals/reports)")
    p.add_argument("--thresholds", help="minimum metric values (default: evals/thresholds.yaml)")
    p.add_argument("--strict", action="store_true", help="exit 1 when a metric is below its threshold")
    p.add_argument("--originals", action="store_true",
                   help="ask each question as written only, not its variants (for slow answerers: a language model)")
    p.add_argument("--phrasings", metavar="FILE",
                   help="ask these phrasings (YAML: question id -> list) instead of the gold file's variants, e.g. "
                        "evals/heldout.yaml; the worst-phrasing floors were set on the gold file's own variants")
    p.set_defaults(run=_eval)
    bench = sub.add_parser("bench", help="external benchmarks").add_subparsers(dest="benchmark", required=True)
    p = bench.add_parser("rtqa", help="RealTime QA news: retrieval recall/MRR per retriever and answer accuracy")
    p.add_argument("--data", dest="bench_data", required=True, metavar="PATH",
                   help="benchmark folder holding corpus/ and questions_dev.jsonl (kept outside the repo)")
    p.add_argument("--questions", metavar="FILE", help="another questions file of the same format")
    p.add_argument("--limit", type=int, metavar="N", help="a deterministic subset of N questions, for quick checks")
    p.add_argument("--json", metavar="PATH", help="write every result as JSON")
    p.add_argument("--generator", choices=GENERATORS, help="answerer to evaluate (default: settings)")
    p.set_defaults(run=_bench)
