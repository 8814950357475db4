"""The learned answer model: logistic regressions over named features, read from a JSON file.

`training/train.py` writes the file (`make train`); answering needs only numpy. A model whose feature names differ
from the code's is refused with a message that says to retrain, so a stale file can never be read silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from .errors import ConfigurationError

MODEL_FILE = Path(__file__).resolve().parent / "answer_model.json"


class LinearModel(BaseModel):
    """P(label | x) = sigmoid(coef . (x - mean) / scale + intercept)."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float

    def check(self, expected: Sequence[str], what: str) -> None:
        """Refuse a model trained on other features than the code computes."""
        if list(expected) != self.features:
            raise ConfigurationError(
                f"The {what} model in the answer-model file was trained on other features than this code computes; "
                "retrain it with `make train`."
            )

    def probability(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probability for each row of `X`."""
        if X.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        z = ((X - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.coef) + self.intercept
        return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)

    def weights(self) -> dict[str, float]:
        """Feature -> weight on the standardised feature: what the model learned, for reading."""
        return dict(zip(self.features, self.coef, strict=True))


class AnswerModel(BaseModel):
    """Everything the extractive answerer learned: which sentences answer, which spans lead, when to refuse."""

    version: int = 1
    sentence: LinearModel
    span: LinearModel
    refuse_below: float = Field(description="Refuse when the best sentence's probability is below this.")
    claim_floor: float = Field(description="Further claims need at least this probability.")
    claim_share: float = Field(default=0.0, description="... and at least this share of the best candidate's "
                               "probability (a relative floor holds across corpora whose probabilities run lower).")
    lead_floor: float = Field(
        default=1.01, description="The default answerer states a direct answer first when the span model's "
        "probability reaches this (calibrated out of fold: its leads are then more often right than wrong).")
    near_floor: float = Field(
        default=1.01, description="With a refusal, the closest passages are shown from this probability: above "
        "the best candidate of 95% of questions asked over another question's passages (off topic).")
    trained_on: str = ""
    notes: dict[str, float | int | str] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerModel:
        """Read the model file, with an error that says how to get one."""
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigurationError(f"No answer model at {path}: run `make train` to build it.") from exc
        except ValueError as exc:
            raise ConfigurationError(f"The answer model {path} is unreadable ({exc}); run `make train`.") from exc
