"""`make bench-abuse`: an ArticlePage reader alone, then beside 4 hostile clients.

Seeds a small synthetic site into a scratch SQLite database and serves it with
`masthead serve --workers 2` behind a trusted "proxy" (loopback), so each wrk
instance below is its own client. The reader (wrk, 4 connections, rotating over
the articles as 1,000 readers) runs alone, then while 4 hostile clients (wrk,
one connection each, bench/hostile.lua) send the worst documents the limits let
through: the same field 2,900 times side by side, a 2^24 fragment fan-out, 1 MB
of whitespace, a 1 MB string, 2,990 tokens and a syntax error, 150 copies of one
object; each new, so no cache helps. Their budgets start full: the first attack
window includes spending them, the second is the steady state (over-budget
floods). Prints p50/p99 of the reader for each window and the ratio to solo.
Loopback only; about a minute and a half.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from run import BENCH, BIN, CONTRACT, ensure_wrk, free_port, run_wrk, seed, start, stop

HOSTILE = 4


def hostile(wrk: str, port: int, seconds: int, client: str) -> subprocess.Popen:
    return subprocess.Popen(
        [wrk, "-t1", "-c1", f"-d{seconds}s", "--timeout", "10s", "-s", str(BENCH / "hostile.lua"), f"http://127.0.0.1:{port}/graphql"],
        env={**os.environ, "HOSTILE_CLIENT": client}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def hostile_result(process: subprocess.Popen) -> dict:
    out, _ = process.communicate(timeout=120)
    line = next((l for l in out.splitlines() if l.startswith("HOSTILE ")), None)
    if line is None:
        raise SystemExit(f"a hostile client failed:\n{out[-2000:]}")
    return json.loads(line[len("HOSTILE "):])


def attack(wrk: str, port: int, env: dict, seconds: int, connections: int, clients: list[str]) -> tuple[dict, list[dict]]:
    processes = [hostile(wrk, port, seconds + 2, client) for client in clients]
    try:
        reader = run_wrk(wrk, port, env, seconds, connections)
    finally:
        results = [hostile_result(p) for p in processes]
    return reader, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    wrk = ensure_wrk()
    scratch = Path(tempfile.mkdtemp(prefix="masthead-abuse-"))
    url = f"sqlite://{scratch / 'bench.sqlite3'}"
    print(f"Seeding {args.articles} articles into {url}", flush=True)
    seed(url, args.articles, 5)
    conn = sqlite3.connect(scratch / "bench.sqlite3")
    paths = [r[0] for r in conn.execute("SELECT url_path FROM page WHERE kind = 'article' ORDER BY (id * 7919) % 100003 LIMIT 1000")]
    conn.close()
    (scratch / "paths.txt").write_text("\n".join(paths) + "\n")

    port = free_port()
    env = {**os.environ, "MASTHEAD_DATABASE_URL": url, "HOST": "127.0.0.1", "PORT": str(port),
           "BENCH_PATHS": str(scratch / "paths.txt"), "BENCH_QUERY_FILE": str(CONTRACT),
           "MASTHEAD_TRUSTED_PROXIES": "127.0.0.1", "MASTHEAD_ENV": "production",
           "MASTHEAD_SECRET_KEY": "abuse-bench-" + "x" * 40, "MASTHEAD_BACKGROUND_JOBS": "0"}
    service = start([str(BIN / "masthead"), "serve", "--workers", str(args.workers), "--no-migrate"], env, port)
    try:
        run_wrk(wrk, port, env, 3, args.connections)  # warm-up: every worker has parsed ArticlePage
        solo = run_wrk(wrk, port, env, args.seconds, args.connections)
        print(f"reader alone: p50 {solo['p50_ms']:.1f} ms, p99 {solo['p99_ms']:.1f} ms, {solo['rps']:.0f} req/s", flush=True)
        clients = [f"10.66.0.{i + 1}" for i in range(HOSTILE)]
        windows = {}
        for name in ("spending budgets", "budgets spent"):
            reader, hostiles = attack(wrk, port, env, args.seconds, args.connections, clients)
            windows[name] = (reader, hostiles)
            sent = sum(h["requests"] for h in hostiles)
            limited = sum(h["rate_limited"] for h in hostiles)
            print(f"reader with {HOSTILE} hostile clients ({name}): p50 {reader['p50_ms']:.1f} ms, p99 {reader['p99_ms']:.1f} ms "
                  f"({reader['p99_ms'] / solo['p99_ms']:.2f}x solo), {reader['rps']:.0f} req/s; hostile sent {sent}, "
                  f"{limited} answered 429, {sent - limited} refused with a code", flush=True)
        solo_again = run_wrk(wrk, port, env, args.seconds, args.connections)
        print(f"reader alone again: p50 {solo_again['p50_ms']:.1f} ms, p99 {solo_again['p99_ms']:.1f} ms", flush=True)
    finally:
        stop(service)
        shutil.rmtree(scratch, ignore_errors=True)

    result = {
        "articles": args.articles, "seconds": args.seconds, "reader_connections": args.connections, "workers": args.workers,
        "hostile_clients": HOSTILE,
        "solo": {k: round(solo[k], 2) for k in ("p50_ms", "p99_ms", "rps")},
        "solo_after": {k: round(solo_again[k], 2) for k in ("p50_ms", "p99_ms", "rps")},
        **{name.replace(" ", "_"): {
            "reader": {k: round(reader[k], 2) for k in ("p50_ms", "p99_ms", "rps")},
            "reader_errors": reader["errors"] + reader["non2xx"],
            "p99_ratio_to_solo": round(reader["p99_ms"] / solo["p99_ms"], 2),
            "hostile": hostiles,
        } for name, (reader, hostiles) in windows.items()},
    }
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "abuse.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
