"""The CLI: clean one-line errors with non-zero exit codes, and the printed answer format."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cli import format_answer, format_report, main
from assistant.models import Answer, Citation, Disagreement, IndexReport, Position, Skipped


def test_missing_corpus_exits_nonzero_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--corpus", str(tmp_path / "missing"), "--data", str(tmp_path / "d"), "index"])
    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith("error: Corpus folder ") and "then run `assistant index`" in err
    assert "Traceback" not in err


def test_empty_question_exits_nonzero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--data", str(tmp_path / "d"), "ask", "   "])
    assert code == 2
    assert capsys.readouterr().err == "error: The question is empty: type a question about the articles.\n"


def test_answer_is_printed_with_numbered_sources() -> None:
    answer = Answer(
        text="Press TV: Iran condemned the attack. [1]",
        citations=[Citation(marker=1, source_id="002_x", title="US may", outlet="Press TV",
                            quote="Iran condemned the attack.")],
    )
    assert format_answer(answer) == (
        "Press TV: Iran condemned the attack. [1]\n\nSources:\n[1] 002_x: US may (Press TV)\n"
        '    "Iran condemned the attack."'
    )
    assert format_answer(Answer(text="The articles don't say.", found=False)) == "The articles don't say."
    pointing = Answer(text="The articles don't say.", found=False, nearest=[
        Citation(marker=1, source_id="001_x", title="Iran slams", outlet="Sputnik", quote="A 10,000-strong force.")])
    assert format_answer(pointing) == (
        "The articles don't say.\n\nClosest passages (they may not answer the question):\n"
        '[1] 001_x: Iran slams (Sputnik)\n    "A 10,000-strong force."'
    )


def test_speakers_and_disagreements_are_printed() -> None:
    answer = Answer(
        text="Sources differ: three [1]; at least two [2].\n- article 003: Three drones. [1]\n- Press TV: Two. [2]",
        citations=[Citation(marker=1, source_id="003_x", title="T3", quote="Three drones attacked.",
                            speaker="Maj. Gen. Saad Maan"),
                   Citation(marker=2, source_id="002_x", title="T2", outlet="Press TV",
                            quote="At least two drones.")],
        disagreements=[Disagreement(point="How many drones?", kind="number", positions=[
            Position(claim="three", markers=[1]), Position(claim="at least two", markers=[2])])],
    )
    assert format_answer(answer).split("\n")[-8:] == [
        "[1] 003_x: T3",
        '    Maj. Gen. Saad Maan: "Three drones attacked."',
        "[2] 002_x: T2 (Press TV)",
        '    "At least two drones."',
        "",
        "Where the sources differ (How many drones?):",
        "  three: [1]",
        "  at least two: [2]",
    ]


def test_report_lists_skipped_files() -> None:
    report = IndexReport(added=["a"], skipped=[Skipped(path="b.txt", reason="empty file")], chunks=3, seconds=1.25)
    assert format_report(report) == (
        "Indexed in 1.2s: 1 added, 0 updated, 0 removed, 0 unchanged, 1 skipped; 3 chunks.\n"
        "  skipped b.txt: empty file"
    )


def test_an_unexpected_error_is_one_line_unless_debugging(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.cli as cli

    def broken(self: object, *args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli.Assistant, "index", broken)
    argv = ["--corpus", str(tmp_path), "--data", str(tmp_path / "d"), "index"]
    assert main(argv) == cli.UNEXPECTED_EXIT
    err = capsys.readouterr().err
    assert err == ("error: unexpected RuntimeError: disk on fire. Rerun with --debug for the traceback, and please "
                   "report it.\n")
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["--debug", *argv])


@pytest.mark.integration
def test_ask_by_source_prints_a_line_per_article(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = Path(__file__).resolve().parent.parent / "corpus"
    code = main(["--corpus", str(corpus), "--data", str(tmp_path / "data"), "ask", "--by-source",
                 "How many drones were used?"])
    out = capsys.readouterr().out
    assert code == 0
    answer_lines = out.split("\n\nSources:")[0].split("\n")
    bullets = [line for line in answer_lines if line.startswith("- ")]
    assert len(bullets) >= 3 and len({line.split(":")[0] for line in bullets}) == len(bullets)
    assert "Where the sources differ (How many drones were used?):" in out
