"""Fault trial: kills, corruption and concurrent sessions against the real stack; prints a table, writes JSON.

Usage: .venv/bin/python bench/faults.py [--kills 20] [--sessions 20] [--json PATH]

Bounded and local: every process it starts runs on this machine, the UI listens on 127.0.0.1 only, every loop has
a fixed count and every wait a timeout, and it stops by itself. Cases:
- kill: `assistant index --rebuild` is SIGKILLed at a random moment; then `assistant ask` must answer (found,
  every quote verbatim) and the next `assistant index` must finish;
- corrupt: each file of the data dir in turn is truncated or overwritten with garbage; then `assistant ask`
  must answer, and `assistant index` must report a healthy index afterwards;
- sessions: `python app.py` on a free port; N gradio clients at once each ask a question and a follow-up.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "assistant.cli"]
QUESTION = "How many drones were used?"
TIMEOUT = 300  # seconds any one step may take before it counts as a failure


def _env(data: Path) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_CORPUS_DIR": str(ROOT / "corpus"),
            "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}


def _ask_ok(data: Path) -> tuple[bool, float, str]:
    """`assistant ask --json` in a new process: found, with every quote verbatim in the corpus."""
    started = time.perf_counter()
    run = subprocess.run([*CLI, "ask", "--json", QUESTION], env=_env(data), capture_output=True, text=True,
                         timeout=TIMEOUT, cwd=ROOT)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        return False, seconds, run.stderr.strip().splitlines()[-1] if run.stderr.strip() else f"exit {run.returncode}"
    from assistant.models import Answer
    from assistant.text import flatten

    answer = Answer.model_validate_json(run.stdout)
    corpus = {p.stem: flatten(p.read_text(encoding="utf-8-sig")) for p in (ROOT / "corpus").glob("*.txt")}
    verbatim = all(flatten(c.quote) in corpus.get(c.source_id, "") for c in answer.citations)
    return answer.found and verbatim, seconds, "" if answer.found else "answered 'not found'"


def _index(data: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "index", *extra], env=_env(data), capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=ROOT)


def _recovers(data: Path, times: list[float]) -> str | None:
    """None when a question is answered right from `data` and the next build finishes; else what went wrong."""
    ok, seconds, why = _ask_ok(data)
    times.append(seconds)
    after = _index(data)
    if ok and after.returncode == 0:
        return None
    return why or after.stderr.strip()[-200:]


def kills(count: int, rng: random.Random) -> dict[str, object]:
    survived, errors, times = 0, list[str](), list[float]()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        _index(data)
        for _ in range(count):
            proc = subprocess.Popen([*CLI, "index", "--rebuild"], env=_env(data), cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.5, 8.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            problem = _recovers(data, times)
            survived += problem is None
            errors += [problem] if problem else []
    return {"case": "SIGKILL during index --rebuild", "survived": survived, "total": count, "errors": errors,
            "p95_s": _p95(times)}


def corruptions() -> dict[str, object]:
    survived, total, errors, times = 0, 0, list[str](), list[float]()
    with tempfile.TemporaryDirectory() as tmp:
        pristine = Path(tmp) / "pristine"
        _index(pristine)
        files = sorted(p.relative_to(pristine) for p in pristine.rglob("*") if p.is_file() and p.stat().st_size)
        for rel in files:
            for how in ("truncate", "garbage"):
                total += 1
                data = Path(tmp) / f"case-{total}"
                shutil.copytree(pristine, data)
                target = data / rel
                if how == "truncate":
                    with target.open("r+b") as f:
                        f.truncate(max(0, target.stat().st_size // 3))
                else:
                    target.write_bytes(os.urandom(min(4096, target.stat().st_size)))
                problem = _recovers(data, times)
                survived += problem is None
                errors += [f"{rel} {how}: {problem}"] if problem else []
                shutil.rmtree(data, ignore_errors=True)
    return {"case": "corrupt a data-dir file (each, truncated or garbage)", "survived": survived, "total": total,
            "errors": errors, "p95_s": _p95(times)}


def sessions(count: int) -> dict[str, object]:
    from gradio_client import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    errors: list[str] = []
    times: list[float] = []
    survived = 0
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], env=_env(Path(tmp) / "data"),
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + TIMEOUT
            while True:
                try:
                    urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 (loopback)
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        return {"case": f"{count} concurrent UI sessions", "survived": 0, "total": count,
                                "errors": ["app.py did not start"], "p95_s": None}
                    time.sleep(0.5)

            def session() -> None:
                nonlocal survived
                try:
                    client = Client(url, verbose=False)
                    for question in (QUESTION, "Who launched them?"):
                        started = time.perf_counter()
                        data = client.predict(question, api_name="/ask")
                        with lock:
                            times.append(time.perf_counter() - started)
                    with lock:
                        survived += bool(data.get("text"))
                except Exception as exc:  # counted and listed: this is what the trial is for
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}"[:200])

            threads = [threading.Thread(target=session) for _ in range(count)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=TIMEOUT)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {"case": f"{count} concurrent UI sessions, question + follow-up", "survived": survived, "total": count,
            "errors": errors, "p95_s": _p95(times)}


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    return round(statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0], 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--json", type=Path, default=ROOT / ".newsdesk" / "bench-faults.json")
    args = parser.parse_args()
    rng = random.Random(7)
    rows = []
    for name, run in (("kill", lambda: kills(args.kills, rng)), ("corrupt", corruptions),
                      ("sessions", lambda: sessions(args.sessions))):
        print(f"running {name}...", file=sys.stderr, flush=True)
        rows.append(run())
    print(f"{'case':58} {'survived':>9} {'errors':>6} {'p95 s':>6}")
    for row in rows:
        print(f"{row['case']:58} {row['survived']:>4}/{row['total']:<4} {len(row['errors']):>6} "  # type: ignore[arg-type]
              f"{row['p95_s'] if row['p95_s'] is not None else '-':>6}")
        for error in row["errors"][:5]:  # type: ignore[index]
            print(f"    {error}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(f"wrote {args.json}")
    return 0 if all(r["survived"] == r["total"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
