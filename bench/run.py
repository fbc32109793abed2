"""`make bench`: the ArticlePage operation under wrk, against the ceiling of the HTTP stack.

Seeds the synthetic site into a scratch SQLite database, serves it the way the
README recommends for production (`masthead serve --workers 2`), checks that the
responses carry data, then interleaves rounds of wrk against our service and
against a bare Starlette app returning a body of the same size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CONTRACT = ROOT / "schema" / "operations" / "ArticlePage.graphql"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    print("wrk is missing: installing it with apt-get", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk")


def seed(url: str, articles: int, comments: int) -> float:
    env = {**os.environ, "MASTHEAD_DATABASE_URL": url}
    subprocess.run([BIN / "masthead", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    started = time.monotonic()
    subprocess.run(
        [BIN / "masthead", "seed", "--synthetic", "--articles", str(articles), "--comments-per-article", str(comments)],
        env=env, check=True,
    )
    return time.monotonic() - started


def start(cmd: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                time.sleep(1.5)  # let every worker come up
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{cmd[0]} did not start")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def worker_pids(process: subprocess.Popen) -> list[int]:
    """The serving processes: children of the supervisor that are python processes."""
    out = subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True, text=True).stdout.split()
    pids = [int(p) for p in out if int(p) != process.pid]
    workers = []
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            workers.append(pid)
    return workers or pids


def cpu_seconds(process: subprocess.Popen) -> float:
    """User and system CPU time so far of a server: every process of its group (supervisor and workers)."""
    out = subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True, text=True).stdout.split()
    total = 0
    for pid in out:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def with_cpu(process: subprocess.Popen, measure) -> dict:
    """A wrk run (`measure()`) with the server's CPU time per request it served (cpu_us)."""
    before = cpu_seconds(process)
    result = measure()
    result["cpu_us"] = (cpu_seconds(process) - before) / max(1, result["requests"]) * 1e6
    return result


def peak_rss_mb(pids: list[int]) -> list[float]:
    result = []
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    result.append(int(line.split()[1]) / 1024)
        except OSError:
            pass
    return result


def run_wrk(wrk: str, port: int, env: dict, seconds: int, connections: int, script: str = "article_page.lua") -> dict:
    out = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(BENCH / script),
         f"http://127.0.0.1:{port}/graphql"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


async def check_and_count(url: str, paths: list[str], port: int) -> tuple[int, int]:
    """Check responses carry data, and count SQL statements per request in-process."""
    query = CONTRACT.read_text()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        for path in paths[:: max(1, len(paths) // 50)]:
            body = (await http.post("/graphql", json={"query": query, "variables": {"urlPath": path}})).json()
            if body.get("errors") or not body["data"]["page"] or len(body["data"]["page"]["comments"]["edges"]) == 0:
                raise SystemExit(f"bad response for {path}: {json.dumps(body)[:500]}")
        sample = (await http.post("/graphql", json={"query": query, "variables": {"urlPath": paths[0]}})).content

    from tortoise import Tortoise

    from schema import schema
    from schema.context import Context
    from service import db
    from service.settings import Settings

    counted = []

    class Counter(logging.Handler):
        def emit(self, record):
            if record.msg == "%s: %s":
                counted.append(1)

    logger = logging.getLogger("tortoise.db_client")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(Counter())
    settings = Settings(database_url=url)
    await Tortoise.init(config=db.tortoise_config(settings))
    try:
        counted.clear()
        result = await schema.execute(query, variable_values={"urlPath": paths[1]}, context_value=Context(None, None, settings))
        assert not result.errors, result.errors
        statements = len(counted)
    finally:
        await Tortoise.close_connections()
    return statements, len(sample)


ADD_COMMENT = ROOT / "schema" / "operations" / "AddComment.graphql"
CLIENT_LIMIT = 120  # comments a minute per client address during the bench
FORM_TOKEN = "query($id: ID!) { commentFormToken(articleId: $id) }"


class Writer:
    """Posts comments from its own loopback addresses while wrk reads; records acknowledgements.

    steady: `rate` comments a second spread over `sources` addresses; flood: one address
    posting as fast as it can (the rate limit answers it).
    """

    def __init__(self, port: int, article_ids: list[str], rate: float, sources: list[str], tag: str) -> None:
        import threading

        self.port, self.article_ids, self.rate, self.sources, self.tag = port, article_ids, rate, sources, tag
        self.acknowledged: list[str] = []
        self.limited = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(30)

    async def _post(self, client: httpx.AsyncClient, query: str, n: int) -> None:
        marker = f"{self.tag}-{n}"
        article_id = self.article_ids[n % len(self.article_ids)]
        variables = {"input": {"articleId": article_id, "authorName": "Bench", "formToken": self.form_tokens[article_id],
                               "authorEmail": f"{marker}@example.com", "body": f"Bench comment {marker}"}}
        try:
            body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
            result = body["data"]["addComment"]
            if result["comment"]:
                self.acknowledged.append(marker)
            elif result["errors"] and result["errors"][0]["code"] == "RATE_LIMITED":
                self.limited += 1
            else:
                self.failed += 1
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            self.failed += 1

    async def _run(self) -> None:
        query = ADD_COMMENT.read_text()
        clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=10,
                                     transport=httpx.AsyncHTTPTransport(local_address=src)) for src in self.sources]
        counter = iter(range(10**9))
        try:
            # As a frontend does when it shows each article's comment form.
            self.form_tokens = {}
            for article_id in self.article_ids:
                answer = await clients[0].post("/graphql", json={"query": FORM_TOKEN, "variables": {"id": article_id}})
                self.form_tokens[article_id] = answer.json()["data"]["commentFormToken"]
            if self.rate:  # steady: one post every 1/rate seconds, whatever the latency
                started, tasks = time.monotonic(), []
                for n in counter:
                    if self._stop.is_set():
                        break
                    delay = started + n / self.rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(self._post(clients[n % len(clients)], query, n)))
                await asyncio.gather(*tasks)
            else:  # flood: 16 posts in flight at all times from one address

                async def loop() -> None:
                    while not self._stop.is_set():
                        await self._post(clients[0], query, next(counter))

                await asyncio.gather(*(loop() for _ in range(16)))
        finally:
            for client in clients:
                await client.aclose()


def count_markers(db_path: Path, tag: str) -> int:
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT COUNT(*) FROM comment WHERE body LIKE ?", (f"Bench comment {tag}-%",)).fetchone()[0]
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument("--writes", type=float, default=0,
                        help="Also run rounds with this many comment posts a second (and a flood round).")
    args = parser.parse_args()

    wrk = ensure_wrk()
    scratch = Path(tempfile.mkdtemp(prefix="masthead-bench-"))
    url = f"sqlite://{scratch / 'bench.sqlite3'}"
    print(f"Seeding {args.articles} articles x {args.comments} comments into {url}", flush=True)
    seed_seconds = seed(url, args.articles, args.comments)

    import sqlite3

    conn = sqlite3.connect(scratch / "bench.sqlite3")
    paths = [r[0] for r in conn.execute(
        "SELECT url_path FROM page WHERE kind = 'article' ORDER BY (id * 7919) % 100003 LIMIT 1000")]
    conn.close()
    (scratch / "paths.txt").write_text("\n".join(paths) + "\n")

    port, ceiling_port = free_port(), free_port()
    env = {**os.environ, "MASTHEAD_DATABASE_URL": url, "HOST": "127.0.0.1", "PORT": str(port),
           "BENCH_PATHS": str(scratch / "paths.txt"), "BENCH_QUERY_FILE": str(CONTRACT),
           # Writers post from their own loopback addresses; each stays under this limit,
           # the flood's address does not.
           "MASTHEAD_COMMENT_RATE_CLIENT": f"{CLIENT_LIMIT}/60", "MASTHEAD_COMMENT_RATE_ARTICLE": "100000/60",
           "MASTHEAD_COMMENT_MIN_SECONDS": "0",  # the writers post as soon as they have a form token
           # wrk plays a CDN on 127.0.0.1 relaying 1,000 readers (X-Forwarded-For); the writers
           # post from their own loopback addresses, as clients without a proxy.
           "MASTHEAD_TRUSTED_PROXIES": "127.0.0.1"}
    service = start([str(BIN / "masthead"), "serve", "--workers", str(args.workers), "--no-migrate"], env, port)
    try:
        statements, body_size = asyncio.run(check_and_count(url, paths, port))
        body_file = scratch / "body.json"
        body_file.write_bytes(b'{"data":' + b"x" * max(0, body_size - 10) + b"}")
        ceiling = start(
            [str(BIN / "uvicorn"), "ceiling:app", "--app-dir", str(BENCH), "--host", "127.0.0.1", "--port", str(ceiling_port),
             "--workers", str(args.workers), "--no-access-log", "--log-level", "warning"],
            {**env, "BENCH_BODY_FILE": str(body_file)}, ceiling_port,
        )
        try:
            run_wrk(wrk, port, env, 3, args.connections)  # warm-up
            ours, bare = [], []
            for round_no in range(1, args.rounds + 1):
                ours.append(run_wrk(wrk, port, env, args.seconds, args.connections))
                bare.append(run_wrk(wrk, ceiling_port, env, args.seconds, args.connections))
                print(f"round {round_no}: masthead {ours[-1]['rps']:.0f} req/s (p99 {ours[-1]['p99_ms']:.1f} ms), "
                      f"ceiling {bare[-1]['rps']:.0f} req/s", flush=True)
            mixed = {}
            if args.writes:
                conn = __import__("sqlite3").connect(scratch / "bench.sqlite3")
                article_ids = [__import__("base64").b64encode(f"ArticlePage:{r[0]}".encode()).decode()
                               for r in conn.execute("SELECT id FROM page WHERE kind = 'article' LIMIT 200")]
                conn.close()
                # Enough addresses that each steady writer stays at 80 % of its limit.
                per_source = CLIENT_LIMIT * 0.8 / 60
                sources = [f"127.0.1.{i}" for i in range(1, 2 + int(args.writes / per_source))]
                with_writes, writers = [], []
                for round_no in range(1, args.rounds + 1):
                    with Writer(port, article_ids, args.writes, sources, f"steady{round_no}") as writer:
                        with_writes.append(run_wrk(wrk, port, env, args.seconds, args.connections))
                    writers.append(writer)
                    print(f"round {round_no} with {args.writes:g} writes/s: masthead {with_writes[-1]['rps']:.0f} req/s "
                          f"(p99 {with_writes[-1]['p99_ms']:.1f} ms), {len(writer.acknowledged)} comments acknowledged", flush=True)
                with Writer(port, article_ids, 0, ["127.0.2.1"], "flood") as flood:
                    flooded = run_wrk(wrk, port, env, args.seconds, args.connections)
                print(f"flood round: masthead {flooded['rps']:.0f} req/s (p99 {flooded['p99_ms']:.1f} ms), flood sent "
                      f"{len(flood.acknowledged) + flood.limited + flood.failed}, {flood.limited} rate-limited", flush=True)
                acknowledged = sum(len(w.acknowledged) for w in writers) + len(flood.acknowledged)
                stored = sum(count_markers(scratch / "bench.sqlite3", w.tag) for w in writers) + count_markers(scratch / "bench.sqlite3", "flood")
                mixed = {
                    "writes_per_second": args.writes,
                    "read_rps_with_writes": round(statistics.median(r["rps"] for r in with_writes), 1),
                    "read_p99_ms_with_writes": round(statistics.median(r["p99_ms"] for r in with_writes), 2),
                    "read_rps_during_flood": round(flooded["rps"], 1),
                    "read_p99_ms_during_flood": round(flooded["p99_ms"], 2),
                    "flood_requests": len(flood.acknowledged) + flood.limited + flood.failed,
                    "flood_rate_limited": flood.limited,
                    "write_failures": sum(w.failed for w in writers) + flood.failed,
                    "comments_acknowledged": acknowledged,
                    "comments_stored": stored,
                }
            rss = peak_rss_mb(worker_pids(service))
        finally:
            stop(ceiling)
    finally:
        stop(service)

    def med(rows, key):
        return statistics.median(r[key] for r in rows)

    result = {
        "articles": args.articles,
        "comments_per_article": args.comments,
        "seed_seconds": round(seed_seconds, 1),
        "rounds": args.rounds,
        "seconds": args.seconds,
        "connections": args.connections,
        "workers": args.workers,
        "response_bytes": body_size,
        "masthead_rps": round(med(ours, "rps"), 1),
        "masthead_p50_ms": round(med(ours, "p50_ms"), 2),
        "masthead_p99_ms": round(med(ours, "p99_ms"), 2),
        "masthead_errors": sum(r["errors"] + r["non2xx"] for r in ours),
        "ceiling_rps": round(med(bare, "rps"), 1),
        "ceiling_p50_ms": round(med(bare, "p50_ms"), 2),
        "ceiling_p99_ms": round(med(bare, "p99_ms"), 2),
        "ratio_to_ceiling_percent": round(100 * med(ours, "rps") / med(bare, "rps"), 2),
        "peak_rss_mb_per_worker": [round(x, 1) for x in rss],
        "sql_statements_per_request": statements,
        **mixed,
    }
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    name = f"article_page_{args.articles}" + ("_mixed" if args.writes else "")
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
