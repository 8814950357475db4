"""Train the extractive answerer's model on RealTime QA weak labels; cross-validate it; write the model file.

    python training/train.py --data PATH/realtimeqa_news        (or: make train RTQA=PATH)

Labels come for free from the benchmark (never from evals/gold.yaml):
- a candidate sentence of an evidence article that contains a gold answer string is a positive; other candidates
  are negatives; sentences of other articles that contain the answer are left out (they may well answer too);
- a span whose words match a gold answer (token F1 >= SPAN_POSITIVE_F1) is a positive span;
- each question is also asked once more with its evidence articles (and every passage holding the answer) taken
  out of what the answerer sees, and once over another question's passages (off topic): the answer is then not
  there, so every candidate is a negative. These pools teach the model what a pool without an answer looks like;
  the refusal floor is set on the questions whose answer is in reach.

Cross-validation is by question (5 folds, by a hash of the id): each fold's model is trained on the other 4/5 and
scores its own 1/5 end to end through `LearnedGenerator.decide`, the code that answers users.
Outputs: assistant/answer_model.json (trained on every question) and training/cv_scores.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant, Settings  # noqa: E402
from assistant.conversation import Query  # noqa: E402
from assistant.embeddings import Embedder  # noqa: E402
from assistant.evaluation.rtqa import RTQAQuestion, bench_settings, load_questions, summarize_answers  # noqa: E402
from assistant.evaluation.scorers import contains_answer  # noqa: E402
from assistant.evaluation.short_answer import exact_match, token_f1  # noqa: E402
from assistant.extractive import ExtractiveGenerator  # noqa: E402
from assistant.features import SENTENCE_FEATURES, Embed, clauses, featurize  # noqa: E402
from assistant.learned import SPAN_POOL, SUPPORT_POOL, Evidence, LearnedGenerator  # noqa: E402
from assistant.models import Answer, Passage  # noqa: E402
from assistant.questions import Question  # noqa: E402
from assistant.ranker import MODEL_FILE, AnswerModel, LinearModel  # noqa: E402
from assistant.spans import SPAN_FEATURES, span_features, spans  # noqa: E402

FOLDS = 5
SPAN_POSITIVE_F1 = 0.67  # a span sharing two thirds of its words with the gold answer is that answer
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)  # inverse L2 strengths tried, strongest regularisation first (choose_c)
UNANSWERABLE_DEPTH = 40  # passages fetched to have top_k left once the evidence is taken out
FALSE_REFUSAL_BUDGET = 0.02  # the product's target: at most 2% of answerable questions refused
NEAR_QUANTILE = 0.95  # a closest passage shown with a refusal beats the best off-topic passage of 95% of questions
MAX_MEDIAN_WORDS = 45  # the product's brevity target; further claims are shown only within it
CLAIM_FLOORS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 1.01)  # tried in turn; 1.01: no further claims
CLAIM_SHARES = (0.0, 0.5, 0.7, 0.85)  # with each floor: the share of the best probability a further claim needs
LEAD_PRECISION = 0.5  # the default states a direct answer first only where it is more often right than wrong


@dataclass
class Item:
    """One training question: its evidence for the answerer, and the labels."""

    question: RTQAQuestion
    answerable: Evidence
    unanswerable: Evidence
    labels: np.ndarray  # per candidate of `answerable`: 1, 0, or -1 (left out)
    offtopic: Evidence | None = None  # the question over another question's passages


def fold_of(qid: str) -> int:
    """The fold of a question: a stable hash of its id."""
    return int(hashlib.sha256(qid.encode()).hexdigest(), 16) % FOLDS


def sentence_labels(ev: Evidence, q: RTQAQuestion) -> np.ndarray:
    """1 for an evidence-article candidate holding a gold answer, -1 for another article's, else 0."""
    out = np.zeros(len(ev.cands), dtype=np.int8)
    for i, c in enumerate(ev.cands):
        if contains_answer(c.answer, q.answers):
            out[i] = 1 if c.passage.source_id in q.evidence_docs else -1
    return out


def without_answer(passages: Sequence[Passage], q: RTQAQuestion, k: int) -> list[Passage]:
    """The passages with every evidence article and every passage that holds a gold answer taken out."""
    return [p for p in passages if p.source_id not in q.evidence_docs and not contains_answer(p.text, q.answers)][:k]


def prepare(assistant: Assistant, gen: LearnedGenerator, questions: Sequence[RTQAQuestion]) -> list[Item]:
    """Retrieve and featurize every question, with and without its answer in reach."""
    from tqdm import tqdm

    retriever = assistant.retriever()
    k = assistant.settings.top_k
    items = []
    for q in tqdm(questions, desc="Preparing", unit="q", file=sys.stderr):
        query = Query.plain(q.query)
        deep = retriever.retrieve(q.query, UNANSWERABLE_DEPTH)
        ev = gen.prepare(query, retriever.retrieve(q.query, k))
        ev_none = gen.prepare(query, without_answer(deep, q, k))
        items.append(Item(q, ev, ev_none, sentence_labels(ev, q)))
    return items


def _fit(X: np.ndarray, y: np.ndarray, names: Sequence[str], c: float) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=2000)
    lr.fit((X - mean) / scale, y)
    return LinearModel(features=list(names), mean=mean.tolist(), scale=scale.tolist(),
                       coef=lr.coef_[0].tolist(), intercept=float(lr.intercept_[0]))


def fit_sentence(items: Sequence[Item], c: float) -> LinearModel:
    """The sentence model on the labelled candidates of `items`, and every candidate of their answerless pools."""
    blocks = [(it.answerable.X[it.labels >= 0], it.labels[it.labels >= 0]) for it in items]
    for it in items:
        for ev in (it.unanswerable, it.offtopic):
            if ev is not None and len(ev.cands):
                blocks.append((ev.X, np.zeros(len(ev.cands), dtype=np.int8)))
    return _fit(np.concatenate([b[0] for b in blocks]), np.concatenate([b[1] for b in blocks]), SENTENCE_FEATURES, c)


def add_offtopic(items: Sequence[Item], words_of: Embed) -> None:
    """Give each question the passages of the next question of its own fold, featurized for it (no new vectors)."""
    for f in range(FOLDS):
        fold = [it for it in items if fold_of(it.question.id) == f]
        for it, other in zip(fold, fold[1:] + fold[:1], strict=True):
            ev = other.answerable
            if it.answerable.q_vec is None or not ev.cands or other is it:
                continue
            it.offtopic = Evidence(it.answerable.question, ev.cands,
                                   featurize(it.answerable.question, it.answerable.q_vec, ev.cands, words_of),
                                   q_vec=it.answerable.q_vec)


def span_rows(it: Item, gen: LearnedGenerator, model: AnswerModel) -> tuple[np.ndarray, np.ndarray]:
    """Span features and labels of one question, with sentences ranked by `model` as at answer time."""
    ev = it.answerable
    ranked = gen.rank(ev, model)
    pool = ranked[:SPAN_POOL]
    found = [s for c in pool for s in spans(c, ev.question)]
    if not found:
        return np.zeros((0, len(SPAN_FEATURES)), dtype=np.float32), np.zeros(0, dtype=np.int8)
    X = span_features(ev.question, found, ranked[:SUPPORT_POOL], gen.cache.get)
    y = np.array([token_f1(s.text, it.question.answers) >= SPAN_POSITIVE_F1 for s in found], dtype=np.int8)
    return X, y


def refusal_floor(items: Sequence[Item], gen: LearnedGenerator, model: AnswerModel) -> float:
    """The highest floor on the best sentence's probability that refuses at most FALSE_REFUSAL_BUDGET of the
    questions whose answer the passages hold: refuse as much as possible without refusing what is answered."""
    return budget_floor([float(gen.rank(it.answerable, model)[0].probability) for it in items
                         if it.answerable.cands and (it.labels == 1).any()])


def budget_floor(best: Sequence[float]) -> float:
    """The highest floor on these best-candidate scores (one per answerable question) that refuses at most
    FALSE_REFUSAL_BUDGET of them; 0 when there are none."""
    return sorted(best)[int(FALSE_REFUSAL_BUDGET * len(best))] if best else 0.0


def claim_floor(items: Sequence[Item], gen: LearnedGenerator, model: AnswerModel) -> tuple[float, float]:
    """The probability, and the share of the best one, further claims need: the best accuracy whose median answer
    stays within MAX_MEDIAN_WORDS (ties: the higher floor, then the higher share: shorter answers)."""
    # The lead spans do not depend on the claim floors: found once per question, not once per trial.
    leads = [gen.lead_spans(it.answerable, gen.rank(it.answerable, model), model) if it.answerable.cands
             else (None, None) for it in items]
    best, best_acc = (CLAIM_FLOORS[-1], 0.0), -1.0
    for floor in CLAIM_FLOORS:
        for share in CLAIM_SHARES if floor < 1 else (0.0,):
            trial = model.model_copy(update={"claim_floor": floor, "claim_share": share})
            s = summarize_answers([it.question for it in items],
                                  [gen.decide(it.answerable, trial, lead) for it, lead in zip(items, leads,
                                                                                              strict=True)])
            if s.median_words <= MAX_MEDIAN_WORDS and s.accuracy >= best_acc:
                best, best_acc = (floor, share), s.accuracy
    return best


def train(items: Sequence[Item], gen: LearnedGenerator, c: float) -> AnswerModel:
    """Sentence model, then span model on its rankings, then the refusal floor."""
    sentence = fit_sentence(items, c)
    placeholder = LinearModel(features=list(SPAN_FEATURES), mean=[0.0] * len(SPAN_FEATURES),
                              scale=[1.0] * len(SPAN_FEATURES), coef=[0.0] * len(SPAN_FEATURES), intercept=0.0)
    model = AnswerModel(sentence=sentence, span=placeholder, refuse_below=0.0, claim_floor=CLAIM_FLOORS[-1])
    rows = [span_rows(it, gen, model) for it in items]
    X = np.concatenate([r[0] for r in rows])
    y = np.concatenate([r[1] for r in rows])
    model.span = _fit(X, y, SPAN_FEATURES, c) if y.any() else placeholder
    model.refuse_below = refusal_floor(items, gen, model)
    model.claim_floor, model.claim_share = claim_floor(items, gen, model)
    return model


def learned_near_floor(items: Sequence[Item], gen: LearnedGenerator, model: AnswerModel) -> float:
    """The probability the learned answerer's closest passage must reach to be shown with a refusal: the
    NEAR_QUANTILE quantile of its best probability over off-topic passages (another question's)."""
    return off_topic_quantile([float(gen.rank(it.offtopic, model)[0].probability) for it in items
                               if it.offtopic is not None and it.offtopic.cands])


class _StoredVectors:
    """An embedder answering from the vectors the prepared questions already hold; only a text they lack goes to
    the real embedder."""

    def __init__(self, items: Sequence[Item], fallback: Embedder) -> None:
        self.fallback = fallback
        self.table: dict[str, np.ndarray] = {}
        self.query: np.ndarray | None = None
        for it in items:
            for ev in (it.answerable, it.unanswerable):
                for c in ev.cands:
                    self.table[c.text] = c.vector
                    self.table.update(zip(clauses(c.text), c.clause_vectors, strict=False))

    def embed(self, texts: list[str]) -> list[np.ndarray]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.table]
        if missing:
            self.table.update(zip(missing, (np.asarray(v) for v in self.fallback.embed(missing)), strict=True))
        return [self.table[t] for t in texts]

    def embed_query(self, text: str) -> np.ndarray:
        assert self.query is not None
        return self.query


def _default_answerer(
    items: Sequence[Item], vectors: _StoredVectors, in_reach: bool
) -> Iterator[tuple[Item, ExtractiveGenerator, list[Passage]]]:
    """The default (hand-weighted) answerer set up for each question (`in_reach`: only those whose answer the
    passages hold), with its passages; it reads the vectors the prepared questions hold."""
    # duck-typed: it hands out the stored numpy vectors, which the answerer's vector cache takes as they are
    ext = ExtractiveGenerator(cast(Embedder, vectors), leads=False)
    for it in items:
        ev = it.answerable
        if ev.cands and ev.q_vec is not None and (not in_reach or (it.labels == 1).any()):
            vectors.query = ev.q_vec
            yield it, ext, _passages(ev)


def _passages(ev: Evidence) -> list[Passage]:
    """The passages an evidence's candidates come from, in order."""
    return list({c.passage.chunk_id: c.passage for c in ev.cands}.values())


def extractive_floor(items: Sequence[Item], vectors: _StoredVectors) -> float:
    """The default answerer's refusal floor calibrated like the learned one: the highest floor on its best
    sentence's score that refuses at most FALSE_REFUSAL_BUDGET of the questions whose answer is in reach."""
    best = []
    for it, ext, passages in _default_answerer(items, vectors, in_reach=True):
        ranked = ext.rank(it.answerable.question.text, passages)
        best.append(ranked[0].score if ranked else 0.0)
    return budget_floor(best)


def extractive_near_floor(items: Sequence[Item], vectors: _StoredVectors) -> float:
    """The score the default answerer's closest passage must reach to be shown with a refusal: the NEAR_QUANTILE
    quantile of its best score when each question is asked over another question's passages (off topic)."""
    best = []
    for it, ext, _ in _default_answerer(items, vectors, in_reach=False):
        if it.offtopic is not None and it.offtopic.cands:
            ranked = ext.rank(it.answerable.question.text, _passages(it.offtopic))
            best.append(ranked[0].score if ranked else 0.0)
    return off_topic_quantile(best)


def off_topic_quantile(best: Sequence[float]) -> float:
    """The NEAR_QUANTILE quantile of off-topic best scores: a closer passage beats nearly every off-topic one."""
    return float(np.quantile(np.asarray(best, dtype=float), NEAR_QUANTILE)) if best else 1.01


def default_quotes(items: Sequence[Item], vectors: _StoredVectors) -> dict[str, list[str]]:
    """The sentences the default answerer quotes for each question it answers (no lead: that is what is tested)."""
    quotes = {}
    for it, ext, passages in _default_answerer(items, vectors, in_reach=False):
        answer = ext.answer(Query.plain(it.question.query), passages)
        if answer.found:
            quotes[it.question.id] = [c.quote for c in answer.citations]
    return quotes


def precision_floor(scores: Sequence[float], right: Sequence[bool], precision: float) -> float:
    """The lowest score from which an isotonic (monotone) fit of right-vs-score reaches `precision`; 1.01 (never)
    when it nowhere does."""
    from sklearn.isotonic import IsotonicRegression

    p = np.asarray(scores, dtype=float)
    if p.size == 0:
        return 1.01
    fitted = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(p, np.asarray(right, dtype=float))
    reached = p[fitted.predict(p) >= precision]
    return float(reached.min()) if reached.size else 1.01


def default_lead_floor(
    items: Sequence[Item], gen: LearnedGenerator, fold_models: Sequence[AnswerModel], quotes: dict[str, list[str]]
) -> tuple[float, dict[str, float]]:
    """The span probability from which the default answerer's leads (the span model's pick among the sentences it
    quotes) are right at least LEAD_PRECISION of the time, read off an isotonic fit of out-of-fold leads (fold f's
    questions led by `fold_models[f]`, trained without them); and how those leads score out of fold with that floor
    (lead EM and F1 over all questions, how many answers lead)."""
    rows: list[tuple[float, str, RTQAQuestion]] = []  # (probability, lead text, question) per answered question
    for it in items:
        if it.question.id in quotes:
            best = gen.lead_among(it.answerable, quotes[it.question.id], fold_models[fold_of(it.question.id)])
            if best is not None:
                rows.append((best.probability, best.text, it.question))
    floor = precision_floor([r[0] for r in rows],
                            [token_f1(r[1], r[2].answers) >= SPAN_POSITIVE_F1 for r in rows], LEAD_PRECISION)
    shown = [r for r in rows if r[0] >= floor]
    return floor, {
        "lead_em": sum(exact_match(t, q.answers) for _, t, q in shown) / len(items),
        "lead_f1": sum(token_f1(t, q.answers) for _, t, q in shown) / len(items),
        "answers_with_lead": len(shown) / max(1, len(quotes)),
        "leads_right": float(np.mean([token_f1(t, q.answers) >= SPAN_POSITIVE_F1 for _, t, q in shown]))
        if shown else 0.0,
    }


def score(items: Sequence[Item], gen: LearnedGenerator, model: AnswerModel) -> dict[str, float]:
    """End-to-end short-answer metrics of `model` on `items`, plus sentence ranking and refusal rates."""
    answers: list[Answer] = [gen.decide(it.answerable, model) for it in items]
    summary = summarize_answers([it.question for it in items], answers).model_dump()
    top1 = [bool(it.labels[gen.rank(it.answerable, model)[0].order] == 1) if it.answerable.cands else False
            for it in items]
    refused = [not gen.decide(it.unanswerable, model).found for it in items]
    offtopic = [not gen.decide(it.offtopic, model).found for it in items if it.offtopic is not None]
    return {**{k: v for k, v in summary.items() if isinstance(v, int | float)},
            "sentence_top1": float(np.mean(top1)), "refuses_when_answer_taken_out": float(np.mean(refused)),
            "refuses_off_topic": float(np.mean(offtopic))}


def cross_validate(
    items: Sequence[Item], gen: LearnedGenerator, c: float
) -> tuple[dict[str, float], list[AnswerModel]]:
    """Mean of the per-fold scores, each fold scored by a model trained on the other folds; and those models, by
    fold (kept for calibrating on out-of-fold answers)."""
    per_fold = []
    models = []
    for f in range(FOLDS):
        train_items = [it for it in items if fold_of(it.question.id) != f]
        test_items = [it for it in items if fold_of(it.question.id) == f]
        models.append(train(train_items, gen, c))
        per_fold.append((len(test_items), score(test_items, gen, models[-1])))
    n = sum(w for w, _ in per_fold)
    keys = per_fold[0][1].keys()
    means = {k: sum(w * s[k] for w, s in per_fold) / n for k in keys}
    folds = np.array([criterion(s) for _, s in per_fold])
    means["criterion"] = criterion(means)
    means["criterion_se"] = float(folds.std(ddof=1) / np.sqrt(len(folds)))  # standard error over the folds
    return means, models


def criterion(scores: Mapping[str, float]) -> float:
    """What model selection maximises: the lead's token F1 plus the answer's accuracy (short answer and full)."""
    return scores["lead_f1"] + scores["accuracy"]


def choose_c(grid: Mapping[float, Mapping[str, float]]) -> float:
    """The strongest regularisation whose cross-validated criterion is within one standard error of the best (the
    one-standard-error rule): over 288 questions, differences smaller than that are fold noise, and picking the
    noisy maximum made the choice swing between the ends of the grid with unrelated changes."""
    best = max(grid, key=lambda c: grid[c]["criterion"])
    bar = grid[best]["criterion"] - grid[best]["criterion_se"]
    return min(c for c in grid if grid[c]["criterion"] >= bar)


def load_cache(path: Path) -> list[Item] | None:
    """The prepared questions of an earlier run, or None when there are none or another version wrote them."""
    if not path.exists():
        return None
    try:
        return list(pickle.loads(path.read_bytes()))
    except (AttributeError, ModuleNotFoundError, ImportError, pickle.UnpicklingError, EOFError) as exc:
        print(f"The prepared questions in {path} were written by another version of this code ({exc}); "
              "preparing them again.", file=sys.stderr)
        return None


def refeaturize(items: Sequence[Item], words_of: Embed) -> None:
    """Recompute the wording analysis and the features of cached questions with the code as it is now (6 s; the
    vectors are kept, so nothing is embedded again): a change to questions.py or features.py always reaches the
    model."""
    for it in items:
        for ev in (it.answerable, it.unanswerable):
            if ev is not None and ev.cands and ev.q_vec is not None:
                ev.question = replace(Question.of(ev.question.text), asked_on=ev.question.asked_on)
                ev.X = featurize(ev.question, ev.q_vec, ev.cands, words_of)
                ev.spans.clear()


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare, cross-validate over the L2 grid, train on everything, write the model and the scores."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, type=Path, help="the realtimeqa_news folder (kept outside the repo)")
    p.add_argument("--cache", type=Path, default=ROOT / ".newsdesk" / "training" / "items.pkl",
                   help="prepared questions are kept here between runs (derived from the data: never commit)")
    p.add_argument("--fresh", action="store_true", help="prepare the questions again even if cached")
    p.add_argument("--out", type=Path, default=MODEL_FILE)
    p.add_argument("--scores", type=Path, default=ROOT / "training" / "cv_scores.json")
    args = p.parse_args(argv)
    started = time.perf_counter()
    questions = load_questions(args.data / "questions_dev.jsonl")
    assistant = Assistant(bench_settings(Settings(), args.data))
    gen = LearnedGenerator(assistant.embedder)
    items = None if args.fresh else load_cache(args.cache)
    if items is None:
        items = prepare(assistant, gen, questions)
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        args.cache.write_bytes(pickle.dumps(items))
    else:
        refeaturize(items, gen.cache.get)  # the cache keeps the slow part (vectors); wording and features are re-read
    add_offtopic(items, gen.cache.get)
    runs = {c: cross_validate(items, gen, c) for c in C_GRID}
    grid = {c: scores for c, (scores, _) in runs.items()}
    for c, s in grid.items():
        print(f"C={c:<5} " + "  ".join(f"{k}={v:.3f}" for k, v in s.items()), file=sys.stderr)
    best_c = choose_c(grid)
    model = train(items, gen, best_c)
    vectors = _StoredVectors(items, assistant.embedder)
    model.lead_floor, default_leads = default_lead_floor(items, gen, runs[best_c][1], default_quotes(items, vectors))
    model.near_floor = learned_near_floor(items, gen, model)  # shown only with refusals: not scored in the folds
    cv = grid[best_c]
    model.trained_on = f"RealTime QA dev, {len(items)} questions (weak labels); C={best_c}"
    model.notes = {f"cv_{k}": round(v, 4) for k, v in cv.items()}
    args.out.write_text(model.model_dump_json(indent=1) + "\n", encoding="utf-8")
    args.scores.write_text(json.dumps({
        "questions": len(items), "folds": FOLDS, "chosen_C": best_c,
        "cross_validated": {str(c): {k: round(v, 4) for k, v in s.items()} for c, s in grid.items()},
        "sentence_weights": {k: round(v, 3) for k, v in model.sentence.weights().items()},
        "span_weights": {k: round(v, 3) for k, v in model.span.weights().items() if abs(v) > 1e-6},
        "refuse_below": round(model.refuse_below, 4),
        "claim_floor": model.claim_floor,
        "claim_share": model.claim_share,
        "lead_floor": round(model.lead_floor, 4),
        "near_floor": round(model.near_floor, 4),
        # the default answerer's leads, out of fold (span model trained on the other folds), with that floor
        "default_leads_cross_validated": {k: round(v, 4) for k, v in default_leads.items()},
        # what the default answerer's hand-set refusal floor (0.45) would be if calibrated the same way
        "extractive_refuse_below": round(extractive_floor(items, vectors), 4),
        # the score a closest passage must reach to be shown with the default's refusal (NEAR_FLOOR, 0.33)
        "extractive_near_floor": round(extractive_near_floor(items, vectors), 4),
    }, indent=1) + "\n", encoding="utf-8")
    print(f"chosen C={best_c}; cross-validated: " + ", ".join(f"{k} {v:.3f}" for k, v in cv.items()))
    print(f"wrote {args.out} and {args.scores} in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
