"""The quality gate: minimum metric values, read from one file (`evals/thresholds.yaml`)."""

from __future__ import annotations

from pathlib import Path

import yaml

from ..settings import PROJECT_DIR
from .gold import EvalFileError
from .runner import METRICS, EvalReport

THRESHOLDS_FILE = PROJECT_DIR / "evals" / "thresholds.yaml"


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, float]:
    """Metric name -> minimum value; an unknown metric name is an error, so a typo cannot disable a check."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise EvalFileError(f"Cannot read thresholds file {path} ({exc}): fix or restore it.") from exc
    if not isinstance(data, dict) or not data:
        raise EvalFileError(f"{path} must map metric names to minimum values, e.g. `fact_recall: 0.85`.")
    unknown = sorted(set(data) - set(METRICS))
    if unknown:
        raise EvalFileError(f"{path} names unknown metrics {', '.join(unknown)}; known: {', '.join(METRICS)}.")
    out: dict[str, float] = {}
    for name, value in data.items():
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            raise EvalFileError(f"{path}: {name} must be a number between 0 and 1, not {value!r}.")
        out[name] = float(value)
    return out


def gate_failures(report: EvalReport, thresholds: dict[str, float]) -> list[str]:
    """One line per metric below its threshold (a metric no question exercised counts as 0)."""
    lines = []
    for name, floor in thresholds.items():
        value = report.metric(name)
        if value is None or value < floor:
            shown = "n/a" if value is None else f"{value:.3f}"
            lines.append(f"{name} = {shown} < {floor:.3f}")
    return lines
