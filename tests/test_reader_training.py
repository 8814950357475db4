"""The reader's training script on a tiny slice: it trains, stops, resumes where it stopped, and exports what
the answerer loads. It never trains a real model (a few steps of batch 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.reader import WEIGHTS, Reader, sha256
from training import reader as training

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "train"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (DATA / "qa").is_dir(), reason="../shared/train is not beside the checkout"),
]


def _config(**changes: object) -> training.Config:
    config = training.Config(data=str(DATA), batch_size=4, limit=2)
    for key, value in changes.items():
        setattr(config, key, value)
    return config


def test_held_out_articles_never_reach_training() -> None:
    train, val_nyt, val_squad = training.load_data(DATA, limit=50)
    held = {e.article for e in val_nyt + val_squad}
    assert held and not held & {e.article for e in train}
    assert all(training.held_out(e.article) for e in val_nyt + val_squad)
    assert any(e.answer_start is None for e in val_squad)  # unanswerable questions are validated on


def test_windows_point_at_the_answer_or_at_cls() -> None:
    import random

    from assistant.reader import load_tokenizer

    tokenizer = load_tokenizer()
    example = training.Example("x", "t", "a", "Who won?", "The match was long. " * 30 + "Ana won the final.", None,
                               None, ())
    answer_start = example.context.index("Ana")
    answerable = training.Example("y", "t", "a", "Who won?", example.context, answer_start, "Ana", ("Ana",))
    rows = training.featurize(tokenizer, [answerable], _config(negative_share=1.0), random.Random(0))
    assert len(rows) > 1  # the passage overflows one window
    positives = [r for r in rows if r[2]]
    assert positives and all(tokenizer.decode(r[0][r[2]:r[3] + 1]) == "ana" for r in positives)
    assert all(r[2] == r[3] == 0 for r in rows if not r[2])
    rows = training.featurize(tokenizer, [example], _config(), random.Random(0))
    assert len(rows) == 1 and rows[0][2:] == (0, 0)  # one window of an unanswerable question


def test_a_stopped_run_resumes_and_exports_a_loadable_checked_model(tmp_path: Path) -> None:
    run, out = tmp_path / "run", tmp_path / "model"
    first = training.train(_config(), run, out, checkpoint_every=1, max_steps=1)
    assert first["steps"] == 1 and "validation" not in first and not out.exists()
    assert (run / "checkpoint.pt").exists()
    record = training.train(_config(), run, out, checkpoint_every=1)
    assert record["steps"] == record["total_steps"] > 1
    assert set(record["validation"]) >= {"nyt_em", "nyt_f1", "squad2_no_answer_accuracy"}
    assert json.loads((out / "record.json").read_text())["steps"] == record["steps"]
    assert (out / "sha256").read_text().split()[0] == sha256(out / WEIGHTS)
    spans = Reader(out).read("Who won?", ["The match was long. Ana won the final."])
    assert spans and all("The match was long. Ana won the final."[s.start:s.end] == s.text for s in spans)


def test_a_resume_with_other_settings_is_refused(tmp_path: Path) -> None:
    training.train(_config(), tmp_path / "run", tmp_path / "model", checkpoint_every=1, max_steps=1)
    with pytest.raises(SystemExit, match="other settings"):
        training.train(_config(lr=1e-3), tmp_path / "run", tmp_path / "model", checkpoint_every=1, max_steps=1)
