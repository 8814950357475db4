"""Train the citation-verification model: does a passage support a sentence a language model wrote?

    python training/support.py --data PATH/realtimeqa_news        (default: the benchmark beside this checkout)

Pairs are made from RealTime QA's articles (never from the seed corpus or evals/), the way an LLM's sentences
relate to the passages it cites:
- supported: a sentence of an article, as it stands, introduced ("The article says that ..."), or reworded (a
  quarter of its ordinary words dropped, clauses reordered, or cut short), against the passage around it;
- unsupported, on topic: a sentence of another article on a similar subject (closest headline among a sample),
  against the passage of this article closest to it;
- unsupported, altered: the article's own sentence with one number or name swapped for one from another article
  (the commonest way a model misquotes), against the passage around it.
The model is a logistic regression over assistant/verify.py's SUPPORT_FEATURES; the keep threshold is the lowest
probability that lets through at most MAX_FALSE_SUPPORT of the unsupported pairs in 5-fold cross-validation.
Writes assistant/support_model.json with the cross-validated rates.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.corpus import read_corpus  # noqa: E402
from assistant.embeddings import MiniLMEmbedder  # noqa: E402
from assistant.features import VectorCache  # noqa: E402
from assistant.ranker import LinearModel  # noqa: E402
from assistant.sentences import split_sentences  # noqa: E402
from assistant.verify import SUPPORT_FEATURES, SUPPORT_FILE, SupportModel, specifics, support_features  # noqa: E402

MAX_FALSE_SUPPORT = 0.05  # at most 1 unsupported sentence in 20 may pass: a wrong citation is worse than a dropped one
ARTICLES = 400  # articles sampled: ~3,000 pairs, enough for five features
PASSAGE_SENTENCES = 5  # a passage is about a chunk: the sentence and two either side
SEED = 13
_DEFAULT_DATA = ROOT.parent / "shared" / "bench" / "realtimeqa_news"


def _reword(sentence: str, rng: random.Random) -> str:
    words = sentence.split()
    keep_specific = specifics(sentence)
    kind = rng.choice(["drop", "reorder", "cut", "verbatim", "attributed"])
    if kind == "verbatim":  # models often copy a sentence as it stands
        return sentence
    if kind == "attributed":
        return f"{rng.choice(['The article says that', 'According to the report,', 'It was reported that'])} " \
               f"{sentence[0].lower()}{sentence[1:]}"
    if kind == "reorder" and ", " in sentence:
        head, tail = sentence.rstrip(".").split(", ", 1)
        return f"{tail[0].upper()}{tail[1:]}, {head[0].lower()}{head[1:]}."
    if kind == "cut" and len(words) > 12:
        return " ".join(words[: len(words) * 2 // 3]).rstrip(",;") + "."
    return " ".join(w for w in words if w.lower().strip(".,") in keep_specific or rng.random() > 0.25)


def _swap(sentence: str, donor: str, rng: random.Random) -> str | None:
    mine = [m for m in re.finditer(r"\b(?:\d[\d,.]*\d|\d|[A-Z][a-z]{2,}(?:\s+[A-Z][a-z]{2,})?)\b", sentence)
            if m.start() > 0]
    theirs = [m.group() for m in re.finditer(r"\b(?:\d[\d,.]*\d|\d|[A-Z][a-z]{2,}(?:\s+[A-Z][a-z]{2,})?)\b", donor)]
    if not mine or not theirs:
        return None
    target = rng.choice(mine)
    same_kind = [t for t in theirs if t[0].isdigit() == target.group()[0].isdigit() and t != target.group()]
    if not same_kind:
        return None
    return sentence[: target.start()] + rng.choice(same_kind) + sentence[target.end() :]


def _window(sents: list[str], i: int) -> str:
    half = PASSAGE_SENTENCES // 2
    return " ".join(sents[max(0, i - half) : i + half + 1])


def make_pairs(data: Path, cache: VectorCache, rng: random.Random) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Feature rows, labels and the kind of each pair."""
    docs, _ = read_corpus(data / "corpus")
    rng.shuffle(docs)
    docs = docs[:ARTICLES]
    titles = cache.get([d.title for d in docs])
    texts = [[s.text for s in split_sentences(d.text) if 8 <= len(s.text.split()) <= 60] for d in docs]
    rows: list[np.ndarray] = []
    labels: list[int] = []
    kinds: list[str] = []
    from tqdm import tqdm

    for a in tqdm(range(len(docs)), desc="pairs", unit="article", file=sys.stderr):
        sents = texts[a]
        if len(sents) < 3:
            continue
        others = rng.sample(range(len(docs)), 30)
        b = max((o for o in others if o != a and texts[o]), key=lambda o: float(titles[docs[a].title]
                                                                              @ titles[docs[o].title]))
        for _ in range(3):
            i = rng.randrange(len(sents))
            claim = _reword(sents[i], rng)
            rows.append(support_features(claim, _window(sents, i), cache)[0])
            labels.append(1)
            kinds.append("reworded")
        # a sentence from the similar article, against this article's passage nearest to it
        foreign = rng.choice(texts[b])
        near = cache.get([foreign, *sents])
        j = int(np.argmax([float(near[foreign] @ near[s]) for s in sents]))
        rows.append(support_features(foreign, _window(sents, j), cache)[0])
        labels.append(0)
        kinds.append("other article")
        for _ in range(2):
            i = rng.randrange(len(sents))
            altered = _swap(sents[i], rng.choice(texts[b]), rng)
            # Only a swap the passage cannot back is unsupported: a name it also mentions may well be right.
            if altered and specifics(altered) - specifics(_window(sents, i)):
                rows.append(support_features(altered, _window(sents, i), cache)[0])
                labels.append(0)
                kinds.append("altered")
    return np.vstack(rows), np.asarray(labels), kinds


def _fit(X: np.ndarray, y: np.ndarray) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(max_iter=2000).fit((X - mean) / scale, y)
    return LinearModel(features=list(SUPPORT_FEATURES), mean=mean.tolist(), scale=scale.tolist(),
                       coef=lr.coef_[0].tolist(), intercept=float(lr.intercept_[0]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=_DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=SUPPORT_FILE)
    args = parser.parse_args()
    rng = random.Random(SEED)
    cache = VectorCache(MiniLMEmbedder())
    X, y, kinds = make_pairs(args.data, cache, rng)
    folds = np.arange(len(y)) % 5
    rng_idx = np.random.default_rng(SEED).permutation(len(y))
    folds = folds[rng_idx]
    cv = np.zeros(len(y))
    for f in range(5):
        model = _fit(X[folds != f], y[folds != f])
        cv[folds == f] = model.probability(X[folds == f])
    negatives = np.sort(cv[y == 0])
    keep_above = float(negatives[int(np.ceil(len(negatives) * (1 - MAX_FALSE_SUPPORT)))])
    kept = cv >= keep_above
    by_kind = {k: float(np.mean(kept[np.array(kinds) == k])) for k in sorted(set(kinds))}
    notes: dict[str, float | int | str] = {
        "pairs": int(len(y)), "supported_pairs": int(y.sum()),
        "cv_kept_supported": float(kept[y == 1].mean()), "cv_kept_unsupported": float(kept[y == 0].mean()),
        **{f"cv_kept_{k.replace(' ', '_')}": v for k, v in by_kind.items()},
        "trained_on": "RealTime QA articles (synthetic pairs, training/support.py)",
    }
    final = SupportModel(model=_fit(X, y), keep_above=keep_above, notes=notes)
    args.out.write_text(final.model_dump_json(indent=1), encoding="utf-8")
    print(f"{len(y)} pairs; keep above {keep_above:.3f}; cross-validated: "
          f"supported kept {notes['cv_kept_supported']:.3f}, unsupported kept {notes['cv_kept_unsupported']:.3f}")
    for k, v in by_kind.items():
        print(f"  {k}: kept {v:.3f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
