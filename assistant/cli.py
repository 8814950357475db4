"""Command line: `assistant index`, `assistant ask`, `assistant chat`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .core import Assistant
from .errors import AssistantError
from .evaluation import add_eval_commands
from .models import Answer, IndexReport, Message
from .rendering import NEAREST_HEADING
from .settings import Settings


def format_answer(answer: Answer) -> str:
    """The answer text followed by a numbered source list with the quoted passages."""
    lines = [answer.text]
    for heading, cited in (("Sources:", answer.citations), (NEAREST_HEADING, answer.nearest)):
        if cited:
            lines.append("")
            lines.append(heading)
        for c in cited:
            outlet = f" ({c.outlet})" if c.outlet else ""
            lines.append(f"[{c.marker}] {c.source_id}: {c.title}{outlet}")
            said = f"{c.speaker}: " if c.speaker else ""
            lines.append(f'    {said}"{c.quote}"')
    for d in answer.disagreements:
        lines.append("")
        lines.append(f"Where the sources differ ({d.point}):")
        for p in d.positions:
            lines.append(f"  {p.claim}: {', '.join(f'[{m}]' for m in p.markers)}")
    return "\n".join(lines)


def format_report(report: IndexReport) -> str:
    """A summary of an index build, with every skipped file and its reason."""
    lines = [
        f"Indexed in {report.seconds:.1f}s: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged, {len(report.skipped)} skipped; "
        f"{report.chunks} chunks."
    ]
    for r in report.repaired:
        lines.append(f"  repaired: {r}")
    for s in report.skipped:
        lines.append(f"  skipped {s.path}: {s.reason}")
    return "\n".join(lines)


def _index(assistant: Assistant, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    bar: tqdm | None = None

    def progress(source_id: str, done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="Embedding", unit="doc", file=sys.stderr)
        bar.set_postfix_str(source_id, refresh=False)
        bar.update(done - bar.n)  # called when a batch starts too: the count, not the calls

    report = assistant.index(rebuild=args.rebuild, progress=progress)
    if bar is not None:
        bar.close()
    print(format_report(report))
    return 0


def _ask(assistant: Assistant, args: argparse.Namespace) -> int:
    answer = assistant.ask(args.question, by_source=args.by_source)
    print(answer.model_dump_json(indent=2) if args.json else format_answer(answer))
    return 0


def _chat(assistant: Assistant, args: argparse.Namespace) -> int:
    print("Ask about the articles (empty line or Ctrl-D to quit).")
    history: list[Message] = []
    while True:
        try:
            question = input("\nyou> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not question:
            return 0
        try:
            answer = assistant.ask(question, history)
        except AssistantError as exc:
            print(f"error: {exc}")
            continue
        print(format_answer(answer))
        history += [Message(role="user", content=question), Message(role="assistant", content=answer.text)]


UNEXPECTED_EXIT = 70  # EX_SOFTWARE (sysexits.h): an internal error, not something the user did


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for the `assistant` command."""
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    parser.add_argument("--corpus", help="folder of .txt/.md articles (default: settings)")
    parser.add_argument("--data", help="index folder (default: settings)")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("index", help="build or update the index from the corpus folder")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything into a fresh collection")
    p.set_defaults(run=_index)
    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the Answer as JSON")
    p.add_argument("--by-source", action="store_true",
                   help="one line per article: what each says on the question, or that it says nothing")
    p.set_defaults(run=_ask)
    p = sub.add_parser("chat", help="interactive chat that keeps the conversation")
    p.set_defaults(run=_chat)
    add_eval_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `assistant` command; errors print one line and exit non-zero."""
    args = build_parser().parse_args(argv)
    overrides = {k: v for k, v in {"corpus_dir": args.corpus, "data_dir": args.data}.items() if v}
    try:
        assistant = Assistant(Settings(**overrides))
        return int(args.run(assistant, args))
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc}. Rerun with --debug for the traceback, and please "
              "report it.", file=sys.stderr)
        return UNEXPECTED_EXIT


if __name__ == "__main__":
    sys.exit(main())
