"""The shipped reader: loads offline, checks its checksum, returns verbatim spans, reads a known answer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.reader import MODEL_DIR, WEIGHTS, Calibration, Reader, ReaderUnavailable, best_span, sha256

PASSAGE = ("An explosive-laden drone attacked the residence of Iraqi Prime Minister Mustafa al-Kadhimi in Baghdad "
           "early Sunday in what Iraqi security officials said was an assassination attempt. Mr. Kadhimi, who "
           "addressed the nation on television shortly after the attack, said he wasn't hurt.")


def test_best_span_keeps_end_after_start_and_within_reach() -> None:
    starts = [9.0, 0.0, 5.0, 0.0, 0.0]
    ends = [9.0, 0.0, 0.0, 1.0, 4.0]
    ids = [None, 0, 1, 1, 1]  # [CLS], a question token, three passage tokens
    assert best_span(starts, ends, ids) == (2, 4, 9.0)  # [CLS] and the question are never a span
    assert best_span(starts, ends, ids, max_answer_tokens=2) == (2, 3, 6.0)
    assert best_span(starts, ends, [None, 0])[2] == float("-inf")  # no passage token: no span


def test_calibration_is_monotone_and_read_from_its_file(tmp_path: Path) -> None:
    calibration = Calibration(scale=0.5, bias=-1.0, threshold=0.3, near=0.2)
    assert calibration.probability(-4) < calibration.probability(0) < calibration.probability(4)
    assert Calibration.load(tmp_path / "none.json") == Calibration()
    (tmp_path / "c.json").write_text('{"scale": 0.5, "rank": 0.0, "bias": -1.0, "threshold": 0.3, "near": 0.2}')
    assert Calibration.load(tmp_path / "c.json") == calibration


def test_the_shipped_weights_match_their_recorded_checksum() -> None:
    assert (MODEL_DIR / "sha256").read_text().split()[0] == sha256(MODEL_DIR / WEIGHTS)
    assert (MODEL_DIR / WEIGHTS).stat().st_size < 50 * 1024 * 1024
    assert (MODEL_DIR / "calibration.json").exists()


def test_damaged_weights_are_refused_with_what_to_do(tmp_path: Path) -> None:
    damaged = tmp_path / "reader"
    shutil.copytree(MODEL_DIR, damaged)
    with (damaged / WEIGHTS).open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"\x00" * 64)
    with pytest.raises(ReaderUnavailable, match="make train-reader"):
        Reader(damaged).read("Who?", ["Ana won."])
    (damaged / WEIGHTS).unlink()
    with pytest.raises(ReaderUnavailable, match="missing"):
        Reader(damaged).read("Who?", ["Ana won."])


@pytest.mark.integration
class TestShippedReader:
    reader = Reader()

    def test_spans_are_verbatim_from_their_passage(self) -> None:
        passages = [PASSAGE, "Short.", PASSAGE * 3]  # the last overflows into several windows
        spans = self.reader.read("Where was the residence?", passages)
        assert {s.passage for s in spans} == {0, 1, 2}
        assert sum(s.passage == 2 for s in spans) > 1
        for s in spans:
            assert passages[s.passage][s.start:s.end] == s.text and s.text

    def test_a_known_answer(self) -> None:
        best = max(self.reader.read("In which city was the residence attacked?", [PASSAGE]), key=lambda s: s.margin)
        assert best.text == "Baghdad"
        assert self.reader.calibration.probability(best.margin) >= self.reader.calibration.threshold  # answered

    def test_an_unanswerable_question_scores_below_an_answerable_one(self) -> None:
        answerable = max(s.margin for s in self.reader.read("Who was the prime minister?", [PASSAGE]))
        unanswerable = max(s.margin for s in self.reader.read("What did the drone cost?", [PASSAGE]))
        assert unanswerable < answerable
