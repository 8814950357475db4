"""The gold-fact set (`evals/gold.yaml`): typed, validated questions with the facts an answer must contain."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from ..corpus import SUFFIXES
from ..errors import AssistantError
from ..models import Message
from ..settings import PROJECT_DIR

GOLD_FILE = PROJECT_DIR / "evals" / "gold.yaml"
Kind = Literal["fact", "multi", "disputed", "unanswerable", "followup", "noise"]
KINDS: tuple[Kind, ...] = ("fact", "multi", "disputed", "followup", "unanswerable", "noise")
REFUSAL_KINDS: frozenset[str] = frozenset({"unanswerable", "noise"})


class EvalFileError(AssistantError):
    """A gold or thresholds file is missing, malformed, or names what does not exist."""

    exit_code = 6


def _compile(pattern: str) -> str:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from exc
    return pattern


def _phrasing_key(text: str) -> str:
    """Case and spacing do not make another phrasing."""
    return " ".join(text.split()).casefold()


class GoldQuestion(BaseModel):
    """One question with the facts a correct answer states and the sources that support them."""

    id: str
    kind: Kind
    question: str
    variants: list[str] = Field(
        default_factory=list, description="Other phrasings of the question, judged by the same facts and sources."
    )
    history: list[Message] = Field(default_factory=list)
    facts: list[list[str]] = Field(default_factory=list, description="Each fact: regex alternatives; all required.")
    forbidden: list[str] = Field(default_factory=list, description="Regexes a correct answer must not match.")
    sources: list[str] = Field(default_factory=list, description="Source ids that support the facts.")
    note: str | None = None
    gated: bool = Field(default=True, description="Counted by the CI gate (evals/thresholds.yaml); reported always.")

    @field_validator("facts")
    @classmethod
    def _facts_compile(cls, facts: list[list[str]]) -> list[list[str]]:
        for alternatives in facts:
            if not alternatives:
                raise ValueError("a fact needs at least one regex alternative")
            for pattern in alternatives:
                _compile(pattern)
        return facts

    @field_validator("forbidden")
    @classmethod
    def _forbidden_compile(cls, forbidden: list[str]) -> list[str]:
        return [_compile(p) for p in forbidden]

    @field_validator("variants")
    @classmethod
    def _variants_distinct(cls, variants: list[str]) -> list[str]:
        seen: set[str] = set()
        for variant in variants:
            key = _phrasing_key(variant)
            if not key:
                raise ValueError("a variant must be a non-empty question")
            if key in seen:
                raise ValueError(f"duplicate variant {variant!r}")
            seen.add(key)
        return variants

    @model_validator(mode="after")
    def _consistent(self) -> GoldQuestion:
        if self.answerable and not (self.facts and self.sources):
            raise ValueError(f"{self.kind} question {self.id!r} needs facts and sources")
        if not self.answerable and (self.facts or self.sources):
            raise ValueError(f"{self.kind} question {self.id!r} must have no facts and no sources")
        # A variant equal to the question would be scored twice and hide how other phrasings fare.
        if any(_phrasing_key(v) == _phrasing_key(self.question) for v in self.variants):
            raise ValueError(f"question {self.id!r} has a variant that repeats the question")
        return self

    @property
    def phrasings(self) -> list[str]:
        """The question as written, then each variant."""
        return [self.question, *self.variants]

    @property
    def answerable(self) -> bool:
        """True when the corpus answers it; unanswerable and noise questions must be refused."""
        return self.kind not in REFUSAL_KINDS


class GoldSet(BaseModel):
    """Every gold question of one file."""

    questions: list[GoldQuestion]

    @model_validator(mode="after")
    def _unique_ids(self) -> GoldSet:
        dupes = sorted(i for i, n in Counter(q.id for q in self.questions).items() if n > 1)
        if dupes:
            raise ValueError(f"duplicate question ids: {', '.join(dupes)}")
        return self


def _read_yaml(path: Path, what: str, how: str) -> Any:
    """A YAML file's data, with an error naming the file and what to do when it is missing or unreadable."""
    if not path.exists():
        raise EvalFileError(f"{what} {path} does not exist: {how}.")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise EvalFileError(f"{what} {path} is not valid YAML; fix it and rerun:\n{exc}") from exc


def load_gold(path: Path = GOLD_FILE) -> GoldSet:
    """Read and validate a gold file; every problem is reported with the file name."""
    data = _read_yaml(path, "Gold file", "pass --gold with the path of a gold YAML file")
    try:
        return GoldSet.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(f"  {_where(data, e['loc'])}: {e['msg']}" for e in exc.errors())
        raise EvalFileError(f"Gold file {path} is invalid; fix it and rerun:\n{problems}") from exc


def with_phrasings(gold: GoldSet, path: Path) -> GoldSet:
    """The gold set with each question's variants replaced by the phrasings a YAML file gives for its id
    (`id: [phrasing, ...]`); a question the file does not name is asked as written only."""
    data = _read_yaml(path, "Phrasings file", "pass --phrasings with a YAML file of question id -> phrasings") or {}
    if not isinstance(data, dict):
        raise EvalFileError(f"Phrasings file {path} must map question ids to lists of phrasings.")
    known = {q.id for q in gold.questions}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise EvalFileError(f"Phrasings file {path} names questions the gold set does not have: "
                            f"{', '.join(unknown)}. Use the ids of the gold file.")
    bad = sorted(str(k) for k, v in data.items() if not (isinstance(v, list) and all(isinstance(x, str) for x in v)))
    if bad:
        raise EvalFileError(f"Phrasings file {path}: each id takes a list of phrasings (text); fix {', '.join(bad)}.")
    try:
        # validated as the gold file's own variants are (no empty phrasing, no repeat of the question)
        return GoldSet(questions=[GoldQuestion.model_validate({**q.model_dump(), "variants": data.get(q.id, [])})
                                  for q in gold.questions])
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors())
        raise EvalFileError(f"Phrasings file {path} is invalid ({problems}); fix it and rerun.") from exc


def _where(data: object, loc: tuple[int | str, ...]) -> str:
    """A readable location: the question's id instead of its list index."""
    if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int) and isinstance(data, dict):
        item = (data.get("questions") or [None] * (loc[1] + 1))[loc[1]]
        name = f"question {item.get('id')!r}" if isinstance(item, dict) and "id" in item else f"question #{loc[1] + 1}"
        return " ".join([name, *map(str, loc[2:])])
    return ".".join(map(str, loc)) or "file"


def missing_sources(gold: GoldSet, corpus_dir: Path) -> list[str]:
    """Source ids the gold set names that have no file in the corpus folder."""
    named = sorted({s for q in gold.questions for s in q.sources})
    return [s for s in named if not any((corpus_dir / f"{s}{ext}").exists() for ext in SUFFIXES)]
