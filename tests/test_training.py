"""The training script's cache of prepared questions: kept between runs, prepared again when unreadable."""

from __future__ import annotations

import importlib.util
import pickle
import sys
from pathlib import Path
from types import ModuleType

import pytest

TRAIN = Path(__file__).resolve().parent.parent / "training" / "train.py"


@pytest.fixture(scope="module")
def train() -> ModuleType:
    spec = importlib.util.spec_from_file_location("newsdesk_train", TRAIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_cache_written_by_another_version_is_prepared_again(
    train: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "items.pkl"
    assert train.load_cache(path) is None  # none yet
    # a pickle naming a class that has since moved (as `Evidence` once did): found by module and name, now gone
    path.write_bytes(b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x13assistant.extractive\x94\x8c\x08Evidence"
                     b"\x94\x93\x94.")
    assert train.load_cache(path) is None
    assert "written by another version of this code" in capsys.readouterr().err
    path.write_bytes(b"not a pickle")
    assert train.load_cache(path) is None
    path.write_bytes(pickle.dumps([1, 2]))
    assert train.load_cache(path) == [1, 2]


def test_the_lead_floor_is_where_leads_become_more_often_right_than_wrong(train: ModuleType) -> None:
    scores = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    assert train.precision_floor(scores, [0, 0, 1, 0, 1, 1, 1], 0.5) == 0.2  # from 0.2 up: 4 of 5 right
    assert train.precision_floor(scores, [1, 0, 0, 0, 0, 0, 1], 0.5) == 0.6  # one lucky low score is not a trend
    assert train.precision_floor(scores, [0] * 7, 0.5) == 1.01  # never right: never shown
    assert train.precision_floor([], [], 0.5) == 1.01


def test_the_strongest_regularisation_within_one_standard_error_of_the_best_is_chosen(train: ModuleType) -> None:
    def run(value: float, se: float) -> dict[str, float]:
        return {"criterion": value, "criterion_se": se}

    # 0.915 is the best, but 0.908 at C=0.03 is within its standard error (0.02): fold noise, not a better model
    assert train.choose_c({0.03: run(0.908, 0.02), 1.0: run(0.912, 0.02), 3.0: run(0.915, 0.02)}) == 0.03
    # a clear winner is kept
    assert train.choose_c({0.03: run(0.80, 0.02), 1.0: run(0.90, 0.02), 3.0: run(0.85, 0.02)}) == 1.0
    assert train.criterion({"lead_f1": 0.4, "accuracy": 0.5}) == pytest.approx(0.9)


def test_the_near_floor_beats_the_best_off_topic_passage_of_95_percent_of_questions(train: ModuleType) -> None:
    best = [i / 100 for i in range(101)]  # off-topic best scores 0.00 .. 1.00
    assert train.off_topic_quantile(best) == pytest.approx(0.95)
    assert train.off_topic_quantile([]) == 1.01  # no off-topic questions: never show
