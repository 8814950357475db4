"""Citation verification for answers a language model writes: no sentence is shown unless a passage supports it.

A draft is split into sentences. Each must carry a marker naming a passage that was given; the passage must
support it, judged by a small learned model (assistant/support_model.json, written by `training/support.py`) over
how close the sentence is to the passage's best sentence (MiniLM), how many of its words and of its specifics
(numbers, names) the passage holds. Unsupported or unmarked sentences are dropped and reported; markers are
renumbered in order of use; each citation quotes the passage's best-supporting sentence, verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from .attribution import passage_speaker
from .errors import ConfigurationError
from .extractive import NOT_FOUND
from .features import VectorCache
from .models import Answer, Citation, Passage
from .ranker import LinearModel
from .sentences import split_sentences
from .terms import content_terms
from .text import instruction

SUPPORT_FILE = Path(__file__).resolve().parent / "support_model.json"
SUPPORT_FEATURES = (
    "cosine",  # MiniLM similarity of the claim with the passage's closest sentence
    "window_cosine",  # ... with that sentence and the next one together (claims often join two)
    "coverage",  # share of the claim's content words found in the closest sentence and its neighbours
    "passage_coverage",  # share found anywhere in the passage
    "missing_specifics",  # share of the claim's numbers and capitalised names the passage does not contain
)
_MARKER = re.compile(r"\s*\[(\d+)\]")
_SPECIFIC = re.compile(r"\b(?:\d[\d,.]*|[A-Z][a-z][\w'-]*)\b")
_NUMBER_WORD = re.compile(r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                          r"hundred|thousand|million|billion|dozens?)\b", re.IGNORECASE)
_REFUSAL = re.compile(r"^\W*(?:the\s+)?(?:articles|passages|sources)\s+(?:don'?t|do\s+not)\s+say\b", re.IGNORECASE)


class SupportModel(BaseModel):
    """P(the passage supports the claim), and the probability above which a claim is kept."""

    model: LinearModel
    keep_above: float = Field(description="Keep a claim whose support probability is at least this.")
    notes: dict[str, float | int | str] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = SUPPORT_FILE) -> SupportModel:
        """Read the model file, with an error that says how to rebuild it."""
        try:
            found = cls.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"The support model {path} is missing or unreadable: rebuild it with "
                                     "`python training/support.py`.") from exc
        found.model.check(SUPPORT_FEATURES, "support")
        return found


@dataclass
class Support:
    """How well one passage supports one claim, and its best sentence (the quote)."""

    probability: float
    quote: str


def specifics(text: str) -> set[str]:
    """Numbers (in digits or words) and capitalised words that are not the sentence's first word."""
    words = list(_SPECIFIC.finditer(text))
    found = {m.group().lower().rstrip(".,") for m in words if m.start() > 0 or m.group()[0].isdigit()}
    return found | {w.lower() for w in _NUMBER_WORD.findall(text)}


def support_features(claim: str, passage_text: str, cache: VectorCache) -> tuple[np.ndarray, str]:
    """The feature row for (claim, passage) and the passage sentence closest to the claim."""
    sents = [s.text for s in split_sentences(passage_text) if not instruction(s.text)]
    if not sents:  # nothing in the passage asserts anything: it supports nothing
        return np.array([0.0, 0.0, 0.0, 0.0, 1.0], dtype=np.float32), ""
    windows = [" ".join(sents[i : i + 2]) for i in range(len(sents))]
    vectors = cache.get([claim, *sents, *windows])
    claim_vec = vectors[claim]
    sims = [float(claim_vec @ vectors[s]) for s in sents]
    best = int(np.argmax(sims))
    window_sims = [float(claim_vec @ vectors[w]) for w in windows]
    terms = set(content_terms(claim))
    near = set(content_terms(" ".join(sents[max(0, best - 1) : best + 2])))
    everywhere = set(content_terms(passage_text))
    wanted = specifics(claim)
    tokens = re.findall(r"[\w.,'-]+", passage_text.lower())
    held = set(tokens) | {t.rstrip(".,") for t in tokens}
    row = np.array([
        sims[best],
        max(window_sims),
        len(terms & near) / len(terms) if terms else 0.0,
        len(terms & everywhere) / len(terms) if terms else 0.0,
        sum(s not in held for s in wanted) / len(wanted) if wanted else 0.0,
    ], dtype=np.float32)
    return row, sents[best]


class Verifier:
    """Checks a drafted answer against the passages it was given."""

    def __init__(self, cache: VectorCache, model: SupportModel | None = None) -> None:
        self.cache = cache
        self._model = model

    @cached_property
    def model(self) -> SupportModel:
        """The support model (read on first use)."""
        return self._model or SupportModel.load()

    def support(self, claim: str, passage: Passage) -> Support:
        """The support probability of one claim by one passage, and the sentence that supports it best."""
        row, quote = support_features(claim, passage.text, self.cache)
        return Support(float(self.model.model.probability(row[None, :])[0]), quote)

    def verify(self, draft: str, passages: Sequence[Passage]) -> Answer:
        """The draft with only supported, cited sentences; the rest in `dropped` with the reason."""
        if _REFUSAL.match(draft.strip()) or not draft.strip():
            return Answer(text=NOT_FOUND, found=False)
        citations: list[Citation] = []
        by_passage: dict[tuple[int, str], int] = {}
        kept: list[str] = []
        dropped: list[str] = []
        for sent in _sentences(draft):
            markers = [int(m) for m in _MARKER.findall(sent)]
            claim = re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", sent)).strip().replace("..", ".")
            if not claim:
                continue
            valid = [m for m in dict.fromkeys(markers) if 1 <= m <= len(passages)]
            if not valid:
                reason = "cites no passage" if not markers else f"cites {_marks(markers)}, which was not given"
                dropped.append(f"{claim} (removed: {reason})")
                continue
            backed = []
            for m in valid:
                found = self.support(claim, passages[m - 1])
                if found.probability >= self.model.keep_above:
                    backed.append((m, found))
            if not backed:
                dropped.append(f"{claim} (removed: not supported by {_marks(valid)})")
                continue
            new: list[int] = []
            for m, found in backed:
                key = (m, found.quote)
                if key not in by_passage:
                    p = passages[m - 1]
                    citations.append(Citation(marker=len(citations) + 1, source_id=p.source_id, title=p.title,
                                              outlet=p.outlet, quote=found.quote,
                                              speaker=passage_speaker(found.quote, p)))
                    by_passage[key] = len(citations)
                new.append(by_passage[key])
            kept.append(f"{claim} {''.join(f'[{n}]' for n in new)}")
        if not kept:
            return Answer(text=NOT_FOUND, found=False, dropped=dropped)
        return Answer(text="\n".join(kept), citations=citations, found=True, lead=kept[0], dropped=dropped)


def _sentences(draft: str) -> list[str]:
    """Sentences of a draft, each with the markers that follow it ("... said. [2]" keeps its [2])."""
    text = re.sub(r"\s+", " ", draft.strip())
    out: list[str] = []
    for s in split_sentences(text):
        piece = s.text
        if out and re.fullmatch(r"(?:\s*\[\d+\])+\.?", piece):
            out[-1] += " " + piece  # a marker the splitter cut off
        else:
            out.append(piece)
    return out


def _marks(markers: Sequence[int]) -> str:
    return "".join(f"[{m}]" for m in markers)
