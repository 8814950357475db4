"""Short-answer scores: SQuAD-style exact match and token F1 of `Answer.lead`, multiple-choice picks, answer length.

Kept free of the retrievers and the Assistant so that a training script can score answers made by any model.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Collection, Sequence

from pydantic import BaseModel, Field

from ..models import Answer
from ..text import normalize_answer
from . import scorers

_MARKERS = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")  # [1], and [1, 2] should a generator write it that way
_WORD = re.compile(r"\w")


def strip_markers(text: str) -> str:
    """`text` without its [n] citation markers."""
    return _MARKERS.sub(" ", text)


def answer_tokens(text: str) -> list[str]:
    """The normalised tokens of `text`, citation markers removed first."""
    return normalize_answer(strip_markers(text)).split()


def _f1(prediction: list[str], gold: list[str]) -> float:
    if not prediction or not gold:
        return float(prediction == gold)  # SQuAD: two empty strings agree, one empty one does not
    same = sum((Counter(prediction) & Counter(gold)).values())
    if not same:
        return 0.0
    precision, recall = same / len(prediction), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str | None, golds: Sequence[str]) -> float:
    """1.0 when `prediction` equals a gold answer after normalisation (markers removed), else 0.0; None scores 0."""
    if prediction is None:
        return 0.0
    tokens = answer_tokens(prediction)
    return float(any(tokens == answer_tokens(g) for g in golds))


def token_f1(prediction: str | None, golds: Sequence[str]) -> float:
    """The best token F1 of `prediction` against any gold answer (SQuAD bag of words); None scores 0."""
    if prediction is None:
        return 0.0
    tokens = answer_tokens(prediction)
    return max((_f1(tokens, answer_tokens(g)) for g in golds), default=0.0)


def _lead(answer: Answer) -> str | None:
    # A refusal has nothing to match even if a lead line was set.
    return answer.lead if answer.found else None


def lead_exact_match(answer: Answer, golds: Sequence[str]) -> float:
    """Exact match of the answer's lead; a refusal or a missing lead scores 0."""
    return exact_match(_lead(answer), golds)


def lead_f1(answer: Answer, golds: Sequence[str]) -> float:
    """Token F1 of the answer's lead; a refusal or a missing lead scores 0."""
    return token_f1(_lead(answer), golds)


def pick_choice(answer: Answer, choices: Sequence[str]) -> int | None:
    """Index of the choice the lead matches best (token F1), ties broken by F1 with the whole text, then by order."""
    if not answer.found or not choices:
        return None  # a refusal picks nothing rather than getting the first option's chance of being right
    lead = _lead(answer)
    text = strip_markers(answer.text)

    def key(i: int) -> tuple[float, float, int]:
        return token_f1(lead, [choices[i]]), token_f1(text, [choices[i]]), -i

    return max(range(len(choices)), key=key)


def choice_correct(answer: Answer, choices: Sequence[str], answer_index: int | None) -> bool | None:
    """Whether the picked choice is `choices[answer_index]`; None when the question has no choices to pick from."""
    if not choices or answer_index is None:
        return None
    return pick_choice(answer, choices) == answer_index


def word_count(text: str) -> int:
    """Words in `text` without citation markers; bullets and stray punctuation are not words."""
    return sum(1 for token in strip_markers(text).split() if _WORD.search(token))


class ShortAnswerScores(BaseModel):
    """The scores of one answer to one question."""

    accurate: bool = Field(description="scorers.answer_accuracy: a gold string in the text and evidence cited.")
    found: bool
    lead_em: float
    lead_f1: float
    mc_correct: bool | None = Field(description="None when the question has no choices.")
    words: int


def score_answer(
    answer: Answer,
    golds: Sequence[str],
    evidence: Collection[str],
    choices: Sequence[str] = (),
    answer_index: int | None = None,
) -> ShortAnswerScores:
    """Every short-answer score of `answer`, plus today's accuracy, against the gold strings and evidence docs."""
    return ShortAnswerScores(
        accurate=scorers.answer_accuracy(answer, golds, evidence).passed,
        found=answer.found,
        lead_em=lead_exact_match(answer, golds),
        lead_f1=lead_f1(answer, golds),
        mc_correct=choice_correct(answer, choices, answer_index),
        words=word_count(answer.text),
    )


class ShortAnswerSummary(BaseModel):
    """Aggregates over a set of answers (every question is taken to be answerable)."""

    n: int
    accuracy: float = Field(description="Share passing scorers.answer_accuracy.")
    lead_em: float = Field(description="Mean exact match of the lead.")
    lead_f1: float = Field(description="Mean token F1 of the lead.")
    mc_accuracy: float | None = Field(description="Share of questions with choices whose pick is right; None if none.")
    mc_n: int = Field(description="Questions with choices (the base of mc_accuracy).")
    median_words: float = Field(description="Median words of Answer.text without markers (refusals included).")
    false_refusal: float = Field(description="Share answered found=False.")


def summarize(scores: Sequence[ShortAnswerScores]) -> ShortAnswerSummary:
    """The aggregates of per-answer scores; an empty set gives zeros (and no MC rate)."""
    n = len(scores)
    picked = [s.mc_correct for s in scores if s.mc_correct is not None]

    def mean(values: Sequence[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    return ShortAnswerSummary(
        n=n,
        accuracy=mean([s.accurate for s in scores]),
        lead_em=mean([s.lead_em for s in scores]),
        lead_f1=mean([s.lead_f1 for s in scores]),
        mc_accuracy=mean(picked) if picked else None,
        mc_n=len(picked),
        median_words=float(statistics.median([s.words for s in scores])) if scores else 0.0,
        false_refusal=mean([not s.found for s in scores]),
    )
