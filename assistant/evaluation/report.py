"""Eval reports: a terminal table, JSON, a Markdown page listing every failure, and a PNG chart by kind."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

from pydantic import BaseModel

from ..settings import PROJECT_DIR
from .runner import METRICS, EvalReport, PhrasingResult, QuestionResult, Rate, Summary, phrasing_label

REPORTS_DIR = PROJECT_DIR / "evals" / "reports"
_HEADERS = {
    "fact_recall": "facts", "sides_cited": "sides", "forbidden": "forbid", "citation_precision": "cite-prec",
    "citation_recall": "cite-rec",
    "quote_exactness": "quotes", "answered": "answered", "refusal_accuracy": "refusal",
    "retrieval_recall": "ret-rec", "mrr": "mrr", "false_refusal": "false-ref",
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


def table_rows(report: EvalReport, *, worst: bool = False) -> list[list[str]]:
    """Header, a row per kind and 'all': count, pass rate, each metric, false refusals (as written, or `worst`)."""
    rates: Summary = report.worst if worst else report.original
    rows = [["kind", "n", "pass", *(_HEADERS[m] for m in METRICS), _HEADERS["false_refusal"]]]
    for kind, by_metric in rates.by_kind.items():
        n = sum(r.kind == kind for r in report.results)
        rows.append(
            [kind, str(n), _cell(rates.pass_rate[kind]), *(_cell(by_metric[m]) for m in METRICS),
             _cell(rates.false_refusal[kind])]
        )
    rows.append(
        ["all", str(len(report.results)), _cell(rates.pass_rate["all"]), *(_cell(rates.overall[m]) for m in METRICS),
         _cell(rates.false_refusal["all"])]
    )
    return rows


def outcome_rows(report: EvalReport) -> list[list[str]]:
    """Header and a row each for the originals and (if any) the variants: what each phrasing got on its own."""

    def share(n: int, of: int) -> str:
        return f"{n}/{of} ({n / of:.0%})" if of else "-"

    rows = [["phrasings", "correct", "refused", "wrong facts", "other check", "unanswerable refused",
             "answers with a lead", "direct leads right", "sides shown right", "refusals pointing to a fact"]]
    for label, variants in (("as written", False), ("variants", True)):
        c = report.outcomes(variants)
        if c["answerable"] + c["unanswerable"] == 0:
            continue
        lead = report.leads(variants)
        rows.append([label, share(c["correct"], c["answerable"]), share(c["refused"], c["answerable"]),
                     str(c["wrong_facts"]), str(c["other_check"]),
                     share(c["unanswerable_refused"], c["unanswerable"]), share(lead["led"], lead["found"]),
                     share(lead["right"], lead["judged"]), share(lead["differ_right"], lead["differ"]),
                     share(lead["pointed"], lead["refused"])])
    return rows


def _has_variants(report: EvalReport) -> bool:
    return report.phrasing_count > len(report.results)


def _fixed_width(rows: list[list[str]], *, total: bool = True) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]
        lines.append("  ".join(cells))
        if i == 0 or (total and i == len(rows) - 2):
            lines.append("  ".join("-" * w for w in widths))
    return lines


def format_table(report: EvalReport) -> str:
    """Fixed-width tables of the rates by kind, as written and (with variants) of the worst phrasing, with timing."""
    lines = [
        f"generator: {report.generator}   questions: {len(report.results)}   phrasings: {report.phrasing_count}   "
        f"time: {report.seconds:.1f}s (index {report.index_seconds:.1f}s)"
    ]
    if not _has_variants(report):
        return "\n".join([*lines, *_fixed_width(table_rows(report))])
    lines += ["", "original phrasing:", *_fixed_width(table_rows(report))]
    worst = _fixed_width(table_rows(report, worst=True))
    lines += ["", "worst phrasing of each question (original or variant):", *worst]
    lines += ["", "each phrasing on its own (answerable: correct, refused, wrong; unanswerable: refused):",
              *_fixed_width(outcome_rows(report), total=False)]
    return "\n".join(lines)


def _md_table(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join(["---"] + ["---:"] * (len(rows[0]) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(out)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def _attempt(phrasing: PhrasingResult, expected_sources: list[str]) -> list[str]:
    """The answer one phrasing got, its citations, and why it failed."""
    lines = ["**Answer given** (found=" + str(phrasing.answer.found) + "):", "", _quote(phrasing.answer.text), ""]
    for c in phrasing.answer.citations:
        lines.append(f"- [{c.marker}] `{c.source_id}`: \"{c.quote}\"")
    lines += ["", "**Why it failed:**", ""]
    lines += [f"- {c.name}: {c.reason}" for c in phrasing.failures]
    expected = ", ".join(expected_sources) or "none (should be refused)"
    lines += [f"- expected sources: {expected}; retrieved: {', '.join(phrasing.retrieved) or 'nothing'}", ""]
    return lines


def _failure(result: QuestionResult) -> str:
    lines = [f"### `{result.id}` ({result.kind})", "", f"**Q:** {result.question}"]
    for m in result.history:
        lines.append(f"- history, {m.role}: {m.content}")
    lines.append("")
    if result.variants:
        failed = {i for i, _ in result.failed_phrasings}
        lines += [f"Failed {len(failed)} of {len(result.phrasings)} phrasings; worst: "
                  f"{phrasing_label(result.worst_phrasing)}.", ""]
    for i, phrasing in result.failed_phrasings:
        if i:  # a variant: asked with the same history, judged by the same facts
            lines += [f"#### {phrasing_label(i)} failed: {phrasing.question}", ""]
        elif result.variants:
            lines += ["#### original failed", ""]
        lines += _attempt(phrasing, result.expected_sources)
    return "\n".join(lines)


def to_markdown(report: EvalReport, chart_name: str) -> str:
    """The report page: settings, the rates tables, the chart, and every failed phrasing with its answer."""
    failed = [r for r in report.results if r.failed_phrasings]
    counted = f"{len(failed)} of {len(report.results)} questions"
    tables = ["", _md_table(table_rows(report))]
    if _has_variants(report):
        failed_phrasings = sum(len(r.failed_phrasings) for r in report.results)
        counted += f"; {failed_phrasings} of {report.phrasing_count} phrasings"
        tables = [
            "",
            "### Original phrasing",
            "",
            _md_table(table_rows(report)),
            "",
            "### Worst phrasing of each question",
            "",
            "The same checks on each question's worst phrasing (the original or one of its variants, asked with the "
            "same history): a failing one, then the fewest passed checks, the lowest fact recall, a refusal. This is "
            "what a reader who words the question differently can get.",
            "",
            _md_table(table_rows(report, worst=True)),
            "",
            "### Each phrasing on its own",
            "",
            "Answerable phrasings: correct (every check passed), refused, answered without every gold fact, or "
            "right facts but another check failed; unanswerable phrasings: refused. Found answers that start with "
            "a direct answer (a lead), and of the single direct answers (not 'Sources differ') to questions with "
            "gold facts, how many state one. Refusals of answerable phrasings that show, among the closest "
            "passages offered with them, one stating a gold fact (still refusals: they count as refused).",
            "",
            _md_table(outcome_rows(report)),
        ]
    parts = [
        "# newsdesk eval report",
        "",
        f"- run: {report.created:%Y-%m-%d %H:%M:%S %z}",
        f"- generator: `{report.generator}`; top_k: {report.top_k}",
        f"- gold file: `{Path(report.gold_file).name}` ({len(report.results)} questions, "
        f"{report.phrasing_count} phrasings with the variants); corpus: `{Path(report.corpus_dir).name}/`",
        f"- time: {report.seconds:.1f}s (index {report.index_seconds:.1f}s)",
        "",
        "Each cell is the pass rate of that check over the questions it applies to ('-': none); `pass` needs every "
        "check of a question to pass. `ret-rec` is the mean fraction of the expected sources among the passages the "
        "answerer sees, `mrr` the mean reciprocal rank of the first expected source. `false-ref` is the share of "
        "answerable questions answered 'not found' (lower is better).",
        *tables,
        "",
        f"![scores by kind]({chart_name})",
        "",
        f"## Failures ({counted})",
        "",
    ]
    parts += [_failure(r) for r in failed] or ["None."]
    return "\n".join(parts) + "\n"


def write_chart(report: EvalReport, path: Path) -> None:
    """A heatmap of every metric by kind (grey: does not apply), with a worst-phrasing panel when there are variants."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("original phrasing", report.original)]
    if _has_variants(report):
        panels.append(("worst phrasing", report.worst))
    kinds = [*report.by_kind, "all"]
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, len(panels) * (0.55 * len(kinds) + 1.2) + 0.4),
                             squeeze=False)
    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#dddddd")
    for ax, (label, rates) in zip(axes[:, 0], panels, strict=True):
        grid: list[list[float]] = [
            [math.nan if by_metric[m].mean is None else float(by_metric[m].mean or 0.0) for m in METRICS]
            for by_metric in [*rates.by_kind.values(), rates.overall]
        ]
        ax.imshow(grid, cmap=cmap, vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(len(METRICS)), [_HEADERS[m] for m in METRICS])
        ax.set_yticks(range(len(kinds)), kinds)
        ax.set_ylabel(label)
        for y, row in enumerate(grid):
            for x, value in enumerate(row):
                ax.text(x, y, "-" if math.isnan(value) else f"{value:.2f}", ha="center", va="center", fontsize=9)
    fig.suptitle(
        f"newsdesk eval: {report.generator}, {len(report.results)} questions "
        f"({report.phrasing_count} phrasings), {report.created:%Y-%m-%d}"
    )
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
