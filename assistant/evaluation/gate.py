"""The quality gate: minimum metric values, read from one file (`evals/thresholds.yaml`)."""

from __future__ import annotations

from pathlib import Path

import yaml

from ..settings import PROJECT_DIR
from .gold import REFUSAL_KINDS, EvalFileError
from .runner import GATE_METRICS, WORST, EvalReport, lower_is_better, phrasing_label

THRESHOLDS_FILE = PROJECT_DIR / "evals" / "thresholds.yaml"


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, float]:
    """Metric name -> minimum (a maximum for a false-refusal rate); an unknown name is an error: a typo cannot hide."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise EvalFileError(f"Cannot read thresholds file {path} ({exc}): fix or restore it.") from exc
    if not isinstance(data, dict) or not data:
        raise EvalFileError(f"{path} must map metric names to minimum values, e.g. `fact_recall: 0.85`.")
    unknown = sorted(set(data) - set(GATE_METRICS))
    if unknown:
        raise EvalFileError(f"{path} names unknown metrics {', '.join(unknown)}; known: {', '.join(GATE_METRICS)}.")
    out: dict[str, float] = {}
    for name, value in data.items():
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            raise EvalFileError(f"{path}: {name} must be a number between 0 and 1, not {value!r}.")
        out[name] = float(value)
    return out


def gate_failures(report: EvalReport, thresholds: dict[str, float]) -> list[str]:
    """One line per metric on the wrong side of its threshold over the gated questions (a metric no question
    exercised fails too)."""
    lines = []
    for name, limit in thresholds.items():
        value = report.gated_metric(name)
        shown = "n/a" if value is None else f"{value:.3f}"
        if lower_is_better(name):
            if value is None or value > limit:
                lines.append(f"{name} = {shown} > {limit:.3f}")
        elif value is None or value < limit:
            lines.append(f"{name} = {shown} < {limit:.3f}")
    return lines


def failing(report: EvalReport, name: str) -> list[str]:
    """What pulls one gate metric down: a line per failing check (or question), naming the phrasing it failed on."""
    base = name.removeprefix(WORST)
    lines = []
    for r in report.results:
        if not r.gated:
            continue
        index = r.worst_phrasing if name.startswith(WORST) else 0
        phrasing = r.phrasings[index]
        label = f"{r.id} [{phrasing_label(index)}]"
        if base == "pass":
            lines += [f"{label}: {c.name}: {c.reason}" for c in phrasing.failures]
        elif base == "false_refusal":
            if r.kind not in REFUSAL_KINDS and not phrasing.answer.found:
                lines.append(f"{label}: refused {phrasing.question!r}")
        else:
            lines += [f"{label}: {c.reason}" for c in phrasing.checks if c.name == base and not c.passed]
    return lines
