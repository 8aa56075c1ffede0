"""Serving under load: `seq2seq serve` on loopback, 1 / 8 / 64 concurrent clients each sending single sentences,
dynamic batching on and off.

    .venv/bin/python benchmarks/serve_load.py RUN_DIR [--requests 512] [--clients 1 8 64] [--threads 2]

RUN_DIR: a trained model (e.g. runs/m30k_ref). Sentences: --input FILE, else RUN_DIR/data/test.src (synthetic runs),
else Multi30k test_2016_flickr.de. Each (batching, clients) row starts its own server process, sends a
warm-up round, then exactly --requests requests (greedy, one sentence each) from that many client threads, and
reports throughput (sentences/s over the whole row) and latency percentiles. Bounded and loopback only: every row
stops by itself. Writes benchmarks/results/serve_load.json.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def sentences(run_dir: Path, path: str | None) -> tuple[list[str], str]:
    """--input, else the generated test set of a synthetic run, else Multi30k test_2016_flickr.de."""
    source = Path(path) if path else run_dir / "data" / "test.src"
    if not source.is_file():
        source = common.multi30k() / "test_2016_flickr.de"
    return [line for line in source.read_text(encoding="utf-8").splitlines() if line.strip()], str(source)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(run_dir: Path, batching: bool, threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "seq2seq", "serve", str(run_dir), "--port", str(port), "--threads",
               str(threads), "--max-batch-size", "64", "--max-wait-ms", "5", "--timeout", "600", "--quiet"]
    proc = subprocess.Popen(command + ([] if batching else ["--no-batching"]), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.time() + 120
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit(f"server did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)


def load(url: str, texts: list[str], clients: int, requests: int) -> dict:
    import httpx

    latencies: list[float] = []
    batched: list[int] = []

    def worker(k: int) -> None:
        with httpx.Client(timeout=600) as client:
            for i in range(k, requests, clients):
                started = time.perf_counter()
                reply = client.post(f"{url}/translate", json={"texts": [texts[i % len(texts)]], "beam_size": 1})
                latencies.append(time.perf_counter() - started)
                reply.raise_for_status()
                batched.append(reply.json()["batched_with"])

    with ThreadPoolExecutor(max_workers=clients) as pool:              # warm-up round, not measured
        list(pool.map(lambda k: httpx.post(f"{url}/translate", json={"texts": [texts[k]], "beam_size": 1},
                                           timeout=600), range(clients)))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(worker, range(clients)))
    wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"sentences_per_s": round(requests / wall, 1), "p50_ms": round(q[49] * 1000, 1),
            "p95_ms": round(q[94] * 1000, 1), "p99_ms": round(q[98] * 1000, 1),
            "mean_batch": round(statistics.mean(batched), 1), "wall_s": round(wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--requests", type=int, default=512)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 64])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--input", help="sentences to send, one per line")
    args = ap.parse_args()
    run_dir = Path(args.run_dir)
    texts, source = sentences(run_dir, args.input)
    rows = []
    for batching in (True, False):
        for clients in args.clients:
            proc, url = start_server(run_dir, batching, args.threads)
            try:
                result = load(url, texts, clients, args.requests)
            finally:
                proc.terminate()
                proc.wait(timeout=60)
            rows.append({"batching": batching, "clients": clients, "requests": args.requests, **result})
            print(rows[-1], file=sys.stderr, flush=True)
    by = {(r["batching"], r["clients"]): r for r in rows}
    text = common.table(
        ["clients", "batching", "sentences/s", "p50 ms", "p95 ms", "p99 ms", "mean batch", "vs batching off"],
        [[r["clients"], "on" if r["batching"] else "off", r["sentences_per_s"], r["p50_ms"], r["p95_ms"], r["p99_ms"],
          r["mean_batch"], f"{r['sentences_per_s'] / by[(False, r['clients'])]['sentences_per_s']:.2f}x"]
         for r in rows])
    common.save("serve_load", {"run_dir": str(run_dir), "threads": args.threads, "sentences": source, "rows": rows},
                text)


if __name__ == "__main__":
    main()
