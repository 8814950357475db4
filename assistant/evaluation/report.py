"""Eval reports: a terminal table, JSON, a Markdown page listing every failure, and a PNG chart by kind."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

from pydantic import BaseModel

from ..settings import PROJECT_DIR
from .runner import METRICS, EvalReport, QuestionResult, Rate

REPORTS_DIR = PROJECT_DIR / "evals" / "reports"
_HEADERS = {
    "fact_recall": "facts", "forbidden": "forbid", "citation_precision": "cite-prec", "citation_recall": "cite-rec",
    "quote_exactness": "quotes", "answered": "answered", "refusal_accuracy": "refusal",
    "retrieval_recall": "ret-rec", "mrr": "mrr",
}


class ReportPaths(BaseModel):
    """Where one run's reports were written."""

    json_path: Path
    markdown: Path
    chart: Path
    latest_markdown: Path
    latest_chart: Path


def _cell(rate: Rate | None) -> str:
    return "-" if rate is None or rate.mean is None else f"{rate.mean:.2f}"


def table_rows(report: EvalReport) -> list[list[str]]:
    """Header plus one row per kind and an 'all' row: question count, all-checks pass rate, each metric."""
    rows = [["kind", "n", "pass", *(_HEADERS[m] for m in METRICS)]]
    for kind, rates in report.by_kind.items():
        n = sum(r.kind == kind for r in report.results)
        rows.append([kind, str(n), _cell(report.pass_rate[kind]), *(_cell(rates[m]) for m in METRICS)])
    rows.append(
        ["all", str(len(report.results)), _cell(report.pass_rate["all"]), *(_cell(report.overall[m]) for m in METRICS)]
    )
    return rows


def format_table(report: EvalReport) -> str:
    """A fixed-width table of the rates by kind, with the run's generator and timing."""
    rows = table_rows(report)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        f"generator: {report.generator}   questions: {len(report.results)}   "
        f"time: {report.seconds:.1f}s (index {report.index_seconds:.1f}s)"
    ]
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]
        lines.append("  ".join(cells))
        if i == 0 or i == len(rows) - 2:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _md_table(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join(["---"] + ["---:"] * (len(rows[0]) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(out)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def _failure(result: QuestionResult) -> str:
    lines = [f"### `{result.id}` ({result.kind})", "", f"**Q:** {result.question}"]
    for m in result.history:
        lines.append(f"- history, {m.role}: {m.content}")
    lines += ["", "**Answer given** (found=" + str(result.answer.found) + "):", "", _quote(result.answer.text), ""]
    for c in result.answer.citations:
        lines.append(f"- [{c.marker}] `{c.source_id}`: \"{c.quote}\"")
    lines += ["", "**Why it failed:**", ""]
    lines += [f"- {c.name}: {c.reason}" for c in result.failures]
    expected = ", ".join(result.expected_sources) or "none (should be refused)"
    lines += [f"- expected sources: {expected}; retrieved: {', '.join(result.retrieved) or 'nothing'}", ""]
    return "\n".join(lines)


def to_markdown(report: EvalReport, chart_name: str) -> str:
    """The report page: settings, the rates table, the chart, and every failed question with its answer."""
    failed = [r for r in report.results if not r.passed]
    parts = [
        "# newsdesk eval report",
        "",
        f"- run: {report.created:%Y-%m-%d %H:%M:%S %z}",
        f"- generator: `{report.generator}`; top_k: {report.top_k}",
        f"- gold file: `{Path(report.gold_file).name}` ({len(report.results)} questions); "
        f"corpus: `{Path(report.corpus_dir).name}/`",
        f"- time: {report.seconds:.1f}s (index {report.index_seconds:.1f}s)",
        "",
        "Each cell is the pass rate of that check over the questions it applies to ('-': none); `pass` needs every "
        "check of a question to pass. `ret-rec` is the mean fraction of the expected sources among the passages the "
        "answerer sees, `mrr` the mean reciprocal rank of the first expected source.",
        "",
        _md_table(table_rows(report)),
        "",
        f"![scores by kind]({chart_name})",
        "",
        f"## Failures ({len(failed)} of {len(report.results)} questions)",
        "",
    ]
    parts += [_failure(r) for r in failed] or ["None."]
    return "\n".join(parts) + "\n"


def write_chart(report: EvalReport, path: Path) -> None:
    """A heatmap of every metric by kind (grey: does not apply), values printed in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [*report.by_kind, "all"]
    grid: list[list[float]] = [
        [math.nan if rates[m].mean is None else float(rates[m].mean or 0.0) for m in METRICS]
        for rates in [*report.by_kind.values(), report.overall]
    ]
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(kinds) + 1.6))
    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#dddddd")
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(METRICS)), [_HEADERS[m] for m in METRICS])
    ax.set_yticks(range(len(kinds)), kinds)
    for y, row in enumerate(grid):
        for x, value in enumerate(row):
            ax.text(x, y, "-" if math.isnan(value) else f"{value:.2f}", ha="center", va="center", fontsize=9)
    ax.set_title(f"newsdesk eval: {report.generator}, {len(report.results)} questions, {report.created:%Y-%m-%d}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(report: EvalReport, out_dir: Path = REPORTS_DIR) -> ReportPaths:
    """Timestamped JSON/Markdown/PNG, plus `latest.md` and `latest.png` (the pair the README shows)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"{report.created:%Y%m%d-%H%M%S}-{report.generator}"
    paths = ReportPaths(
        json_path=out_dir / f"{stamp}.json",
        markdown=out_dir / f"{stamp}.md",
        chart=out_dir / f"{stamp}.png",
        latest_markdown=out_dir / "latest.md",
        latest_chart=out_dir / "latest.png",
    )
    paths.json_path.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    paths.markdown.write_text(to_markdown(report, paths.chart.name), encoding="utf-8")
    write_chart(report, paths.chart)
    paths.latest_markdown.write_text(to_markdown(report, paths.latest_chart.name), encoding="utf-8")
    shutil.copyfile(paths.chart, paths.latest_chart)
    return paths
