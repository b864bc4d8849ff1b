"""Load on `qa serve`, on loopback only: throughput, latency percentiles and errors at 1, 8 and 32 clients.

The index is copied with its corpus into a scratch folder; `qa serve` runs on it as a child process bound to
127.0.0.1 on a free port, and stops when the bench ends. Each client is a thread with its own keep-alive
connection asking GET /ask in a loop, for --seconds or --max-requests, whichever comes first. With
--publish, a `qa index` adds or removes an article of the scratch corpus a third of the way into each run, so the
server moves to a new generation while it answers; every answer is then checked against the one the
index gave before the run (same sentence, same short answer): an answer from a half-built generation
would not match.

    .venv/bin/python -m bench.scale.serve_load                                   # default corpus, 1/8/32 clients, 30 s
    .venv/bin/python -m bench.scale.serve_load --publish --seconds 15
    .venv/bin/python -m bench.scale.serve_load --corpus bench/out/corpora/bbc --seconds 20 --publish
                                      # BBC (python -m bench.common.corpora writes it): its first 20 titles as questions
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench import REPO
import qa

QUESTIONS = [
    "how many Chinese nationals did Zelensky claim?",
    "Who is the spokesperson of China's foreign ministry?",
    "Where will Russian officials meet U.S. diplomats?",
    "Which Chinese contract soldier was killed in the Zaporizhia region?",
    "How many casualties has Russia suffered according to Ukraine's General Staff?",
]
EXTRA = ("bench-extra.txt", "Glaciers in the Alps shrink\n\nThe Rhone glacier lost 4 percent of its volume in 2022. "
         "Swiss scientists measured the loss with drones.\n")


def questions_for(corpus: Path, n: int = 20) -> list[str]:
    """The default corpus's questions; for another corpus, the titles of its first n JSONL articles."""
    if corpus.resolve() == (REPO / "corpus").resolve():
        return QUESTIONS
    titles: list[str] = []
    for path in sorted(corpus.rglob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                title = json.loads(line).get("title")
                if title:
                    titles.append(title)
                if len(titles) == n:
                    return titles
    return titles or QUESTIONS


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: Path, port: int, workers: int | None) -> subprocess.Popen:
    command = [sys.executable, "-m", "qa.cli", "serve", "--index", str(index), "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log"]
    if workers:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"qa serve exited: {server.communicate()[1]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("qa serve did not become ready within 120 s")


def publisher(corpus: Path, index: Path, at: float, log: list[dict]) -> None:
    """Halfway through a run: add the extra article, or remove it if there, with `qa index`."""
    time.sleep(at)
    extra = corpus / EXTRA[0]
    if extra.exists():
        extra.unlink()
    else:
        extra.write_text(EXTRA[1], encoding="utf-8")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "qa.cli", "index", str(corpus), "--index", str(index), "--json",
                           "--wait", "60"], capture_output=True, text=True)
    report = json.loads(done.stdout) if done.returncode == 0 else {"error": done.stderr.strip()}
    log.append({"seconds": round(time.monotonic() - started, 2), "articles": report.get("articles"),
                "error": report.get("error")})


def run(url: str, clients: int, seconds: float, max_requests: int, expected: dict[str, tuple]) -> dict:
    questions = list(expected)
    latencies: list[float] = []
    errors: list[str] = []
    wrong = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        nonlocal wrong
        with httpx.Client(base_url=url, timeout=30) as http:
            i = n
            while time.monotonic() < stop_at:
                with lock:
                    if len(latencies) + len(errors) >= max_requests:
                        return
                question = questions[i % len(questions)]
                i += 1
                started = time.perf_counter()
                try:
                    reply = http.get("/ask", params={"q": question})
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(type(exc).__name__)
                    continue
                elapsed = time.perf_counter() - started
                with lock:
                    if reply.status_code != 200:
                        errors.append(str(reply.status_code))
                        continue
                    latencies.append(elapsed)
                    body = reply.json()
                    got = (body["sentence"], (body.get("short_answer") or {}).get("text"))
                    wrong += got != expected[question]

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    return {
        "clients": clients, "requests": len(latencies), "seconds": round(wall, 1),
        "throughput": round(len(latencies) / wall, 1),
        "p50_ms": round(1000 * percentile(latencies, 50), 1), "p95_ms": round(1000 * percentile(latencies, 95), 1),
        "p99_ms": round(1000 * percentile(latencies, 99), 1), "errors": len(errors), "wrong": wrong,
        "error_kinds": sorted(set(errors)),
    }


def generation(url: str) -> str:
    return httpx.get(f"{url}/stats").json()["generation"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus", help="corpus folder (default: corpus/)")
    parser.add_argument("--index", type=Path, default=None,
                        help="an index of that corpus to copy (default: build one in the scratch folder)")
    parser.add_argument("--clients", default="1,8,32", help="comma-separated client counts (default: 1,8,32)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each run (default: 30)")
    parser.add_argument("--max-requests", type=int, default=20_000, help="most requests per run (default: 20000)")
    parser.add_argument("--publish", action="store_true", help="publish a new generation a third of the way into each run")
    parser.add_argument("--workers", type=int, default=None, help="qa serve --workers (default: its own)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="qa-serve-load-"))
    corpus, index = scratch / "corpus", scratch / "index"
    server = None
    try:
        shutil.copytree(args.corpus, corpus)
        if args.index:
            shutil.copytree(args.index, index)
        report = qa.build_index(corpus, index)  # brings a copied index up to date; builds one otherwise
        with qa.open_index(index) as bot:
            expected = {}
            for q in questions_for(args.corpus):
                a = bot.ask(q)
                expected[q] = (a.sentence, a.short_answer.text if a.short_answer else None)
        port = free_port()
        server = start_server(index, port, args.workers)
        url = f"http://127.0.0.1:{port}"
        http = httpx.Client(base_url=url)
        for q in expected:  # warm the server up
            http.get("/ask", params={"q": q})
        print(f"data {args.corpus.name}: {report.articles} articles, {report.sentences} sentences; "
              f"qa serve on {url}, cores {os.cpu_count()}, publish mid-run: {args.publish}")
        print(f"{'clients':>7} {'requests':>8} {'seconds':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
              f"{'p99 ms':>7} {'errors':>6} {'wrong':>5} {'publish s':>9}  generation")
        rows = []
        for clients in (int(c) for c in args.clients.split(",")):
            publishes: list[dict] = []
            pub = None
            before = generation(url)
            if args.publish:
                pub = threading.Thread(target=publisher, args=(corpus, index, args.seconds / 3, publishes))
                pub.start()
            row = run(url, clients, args.seconds, args.max_requests, expected)
            if pub:
                pub.join()
                row["publish"] = publishes
                deadline = time.monotonic() + 10
                while generation(url) == before and time.monotonic() < deadline:
                    time.sleep(0.1)
            row["generation"] = f"{before}->{generation(url)}" if generation(url) != before else before
            rows.append(row)
            published = ",".join(str(p["seconds"]) if not p["error"] else "FAILED" for p in publishes) or "-"
            print(f"{row['clients']:>7} {row['requests']:>8} {row['seconds']:>7} {row['throughput']:>7} "
                  f"{row['p50_ms']:>7} {row['p95_ms']:>7} {row['p99_ms']:>7} {row['errors']:>6} {row['wrong']:>5} "
                  f"{published:>9}  {row['generation']}" + (f"  {row['error_kinds']}" if row["errors"] else ""))
        reloads = http.get("/stats").json()["reloads"]
        print(f"server moved to a new generation {reloads} times; command: python -m bench.scale.serve_load "
              + " ".join(sys.argv[1:]))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
