"""Hand-labelled checks of who-says-what: the disagreement detector on passage pairs and the speaker grammar.

`python -m assistant.evaluation.pairs` prints the detector's precision and recall on
`tests/fixtures/disagreement_pairs.yaml` and the speaker accuracy on `tests/fixtures/speakers.yaml`, lists every
miss, and writes the figures to `evals/reports/pairs.json`. Both files were labelled by hand from the seed
articles without reference to the code they measure.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from ..attribution import speaker
from ..disagreement import Sides
from ..embeddings import Embedder
from ..features import VectorCache
from ..questions import Question
from ..settings import PROJECT_DIR

FIXTURES = PROJECT_DIR / "tests" / "fixtures"
PAIRS_FILE = FIXTURES / "disagreement_pairs.yaml"
SPEAKERS_FILE = FIXTURES / "speakers.yaml"
CORPUS = PROJECT_DIR / "corpus"


class PairScore(BaseModel):
    """The detector's confusion counts on labelled pairs, and the pairs it got wrong."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    misses: list[str] = Field(default_factory=list)

    @property
    def precision(self) -> float:
        """Share of the pairs called conflicting that are."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Share of the conflicting pairs that were found."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


def score_pairs(sides: Sides, path: Path = PAIRS_FILE) -> PairScore:
    """Run the detector on every labelled pair of `path`."""
    score = PairScore()
    for item in yaml.safe_load(path.read_text(encoding="utf-8")):
        question = Question.of(item["point"])
        got = sides.conflict(question, item["a"]["text"], item["b"]["text"])
        gold = bool(item["conflict"])
        score.tp += got and gold
        score.fp += got and not gold
        score.fn += gold and not got
        score.tn += not got and not gold
        if got != gold:
            score.misses.append(f"{'missed' if gold else 'false alarm'} ({item['kind']}): {item['point']}")
    return score


def speaker_accuracy(path: Path = SPEAKERS_FILE, corpus: Path = CORPUS) -> tuple[float, list[str]]:
    """Share of labelled sentences whose speaker is read right (None for narration), and the misses."""
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    misses: list[str] = []
    for item in items:
        text = (corpus / f"{item['source']}.txt").read_text(encoding="utf-8-sig")
        got = speaker(item["text"], text[: max(0, text.find(item["text"]))])
        if item["speaker"] is None:
            right = got is None
        else:
            right = got is not None and any(a.lower() in got.lower() for a in item["accept"])
        if not right:
            misses.append(f"{item['speaker']!r} read as {got!r}: {item['text'][:70]}")
    return 1 - len(misses) / len(items), misses


def main(argv: list[str] | None = None, embedder: Embedder | None = None) -> int:
    """Print both figures and their misses; write evals/reports/pairs.json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(PROJECT_DIR / "evals" / "reports" / "pairs.json"))
    args = parser.parse_args(argv)
    if embedder is None:
        from ..embeddings import MiniLMEmbedder

        embedder = MiniLMEmbedder()
    pairs = score_pairs(Sides(VectorCache(embedder).get))
    accuracy, speaker_misses = speaker_accuracy()
    print(f"disagreement pairs: precision {pairs.precision:.3f}, recall {pairs.recall:.3f} "
          f"(tp {pairs.tp}, fp {pairs.fp}, fn {pairs.fn}, tn {pairs.tn})")
    for miss in pairs.misses:
        print(f"  {miss}")
    print(f"speakers: accuracy {accuracy:.3f}")
    for miss in speaker_misses:
        print(f"  {miss}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"precision": pairs.precision, "recall": pairs.recall, "tp": pairs.tp, "fp": pairs.fp,
                               "fn": pairs.fn, "tn": pairs.tn, "speaker_accuracy": accuracy}, indent=1),
                   encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
