"""The eval suite: gold facts and scorers (`assistant eval`), and the RealTime QA benchmark (`assistant bench`)."""

from __future__ import annotations

from .cli import add_eval_commands
from .gold import EvalFileError, GoldQuestion, GoldSet, load_gold
from .scorers import Check

__all__ = ["Check", "EvalFileError", "GoldQuestion", "GoldSet", "add_eval_commands", "load_gold"]
