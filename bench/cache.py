"""`make bench-cache`: cached reads against the ceiling of the HTTP stack, in one run.

Seeds the synthetic site into a scratch SQLite database, registers the ArticlePage
operation, and measures with wrk at 16 connections rotating over 1,000 articles:

- uncached: ArticlePage over POST with the response cache off;
- persisted GET (`documentId=sha256:...`) with the in-process response cache warm;
- the same with the cache in Redis (MASTHEAD_REDIS_URL, when Redis answers);
- the same through a real Varnish in front (deploy/varnish/default.vcl, when installed);
- mixed: cached GETs while one article is published every 3 s and 20 comments a second are
  approved, reporting the sampled hit ratio and the longest time a reader saw an article older
  than its last committed publish;

each beside a bare Starlette app answering a body of the same size (the ceiling), in
requests a second and in the servers' CPU time per request (utime + stime of every
server process, /proc): on a shared machine the second moves less than the first.
Persisted GETs are set against the ceiling over GET (the same requests, from the same
wrk script), ArticlePage over POST against the ceiling over POST.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (BENCH, BIN, CONTRACT, ensure_wrk, free_port, peak_rss_mb, run_wrk, seed, start, stop,  # noqa: E402
                 with_cpu, worker_pids)

ROOT = BENCH.parent
VARNISHD = shutil.which("varnishd") or ("/usr/sbin/varnishd" if os.path.exists("/usr/sbin/varnishd") else None)
ACCEPT = "application/graphql-response+json, application/json"  # what bench/persisted_get.lua sends
PUBLISH = """mutation Publish($id: ID!, $headline: String!) {
  updateArticle(id: $id, input: {headline: $headline}) { errors { code message } }
  publishPage(id: $id) { errors { code message } }
}"""
MODERATE = "mutation M($id: ID!) { moderateComment(id: $id, action: APPROVE) { errors { code } } }"


def wrk_get(wrk: str, port: int, env: dict, seconds: int, connections: int) -> dict:
    return run_wrk(wrk, port, env, seconds, connections, script="persisted_get.lua")


def reader(n: int) -> dict[str, str]:
    """Headers of one of many readers behind the proxy wrk plays (each with its own budget)."""
    return {"X-Forwarded-For": f"10.9.{n // 250 % 250}.{n % 250 + 1}", "Accept": ACCEPT}


def get_url(document_id: str, path: str) -> str:
    return f"/graphql?documentId={quote(document_id)}&variables={quote(json.dumps({'urlPath': path}, separators=(',', ':')))}"


def warm(base: str, document_id: str, paths: list[str], rounds: int = 12) -> dict[str, int]:
    """Read every path, each on a new connection (so any worker may answer it), until a round
    finds every one cached (each worker keeps its own in-process copy); that round's tally."""
    tally: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        for _ in range(rounds):
            tally = {}
            for n, path in enumerate(paths):
                response = http.get(get_url(document_id, path), headers=reader(n))
                assert response.status_code == 200 and response.json().get("data", {}).get("page"), response.text[:300]
                label = response.headers.get("x-edge-cache") or response.headers.get("x-cache", "-")
                tally[label] = tally.get(label, 0) + 1
            if tally.get("HIT") == len(paths):
                break
    return tally


def cli(env: dict, *args: str) -> str:
    return subprocess.run([str(BIN / "masthead"), *args], env=env, check=True, capture_output=True, text=True).stdout


def start_varnish(backend_port: int, scratch: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    vcl_dir = scratch / "vcl"
    vcl_dir.mkdir()
    shutil.copy(ROOT / "deploy" / "varnish" / "default.vcl", vcl_dir / "default.vcl")
    (vcl_dir / "backends.vcl").write_text(
        f'backend masthead_app {{\n    .host = "127.0.0.1";\n    .port = "{backend_port}";\n}}\n\n'
        "sub masthead_backend {\n    set req.backend_hint = masthead_app;\n}\n\n"
        'acl masthead_purgers {\n    "127.0.0.1";\n}\n'
    )
    process = subprocess.Popen(
        [VARNISHD, "-F", "-j", "none", "-T", "none", "-n", str(scratch / "varnish"), "-a", f"127.0.0.1:{port}",
         "-f", str(vcl_dir / "default.vcl"), "-s", "malloc,256m"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.request("PURGE", f"http://127.0.0.1:{port}/", timeout=1)
            return process, port
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("varnishd did not start")


def redis_answers() -> bool:
    try:
        return subprocess.run(["redis-cli", "-n", "7", "ping"], capture_output=True, text=True, timeout=5).stdout.strip() == "PONG"
    except (OSError, subprocess.TimeoutExpired):
        return False


class Newsroom(threading.Thread):
    """Publishes an article every 3 s and approves `approvals` comments a second; a reader polls
    each published article over persisted GET until it shows the new headline."""

    def __init__(self, base: str, document_id: str, articles: list[tuple[str, str]], pending: list[str],
                 editor: str, moderator: str, approvals: float, seconds: float) -> None:
        super().__init__(daemon=True)
        self.base, self.document_id, self.articles, self.pending = base, document_id, articles, pending
        self.editor, self.moderator, self.approvals, self.seconds = editor, moderator, approvals, seconds
        self.staleness: list[float] = []
        self.published = self.approved = 0
        self.failures: list[str] = []
        self.publish_seconds: list[float] = []  # each publish's round trip, under the read load
        self.tally: dict[str, int] = {}
        self.lock = threading.Lock()

    def run(self) -> None:
        # Moderators on an open-loop schedule (the rate does not fall when answers are slow under
        # load), enough at once that answers taking up to two seconds under load still
        # keep the asked rate (ten were too few: 8-12 approvals/s of 20 asked).
        team = max(10, int(self.approvals * 2))
        approvers = [threading.Thread(target=self.approve, args=(self.pending[i::team], self.approvals / team), daemon=True)
                     for i in range(team)]
        for approver in approvers:
            approver.start()
        sampler = threading.Thread(target=self.sample, daemon=True)
        sampler.start()
        ends = time.monotonic() + self.seconds
        with httpx.Client(base_url=self.base, timeout=10) as http:
            n = 0
            while time.monotonic() < ends - 3:
                n += 1
                article_id, path = random.choice(self.articles)
                headline = f"Bench headline {n} {random.random():.6f}"
                asked = time.monotonic()
                try:
                    body = http.post("/graphql", json={"query": PUBLISH, "variables": {"id": article_id, "headline": headline}},
                                     headers={"Authorization": f"Bearer {self.editor}"}).json()
                except httpx.HTTPError as error:  # counted, not fatal: the run goes on and reports it
                    self.failures.append(f"publish: {error!r}")
                    continue
                committed = time.monotonic()
                self.publish_seconds.append(committed - asked)
                if body.get("errors") or body["data"]["updateArticle"]["errors"] or body["data"]["publishPage"]["errors"]:
                    self.failures.append(json.dumps(body)[:300])
                    continue
                self.published += 1
                while True:  # a reader on the public path: how long until it sees the change?
                    page = http.get(get_url(self.document_id, path), headers=reader(random.randrange(60000))).json()["data"]["page"]
                    if page["headline"] == headline:
                        self.staleness.append(time.monotonic() - committed)
                        break
                    if time.monotonic() - committed > 30:
                        self.staleness.append(float("inf"))
                        break
                    time.sleep(0.01)
                time.sleep(max(0.0, 3 - (time.monotonic() - committed)))
        for approver in approvers:
            approver.join()
        sampler.join()

    def approve(self, pending: list[str], rate: float) -> None:
        ends, interval = time.monotonic() + self.seconds, 1 / rate
        due = time.monotonic() + random.random() * interval  # spread the team over one interval
        with httpx.Client(base_url=self.base, timeout=10) as http:
            for comment_id in pending:
                time.sleep(max(0.0, due - time.monotonic()))
                if time.monotonic() > ends:
                    break
                due += interval
                try:
                    body = http.post("/graphql", json={"query": MODERATE, "variables": {"id": comment_id}},
                                     headers={"Authorization": f"Bearer {self.moderator}"}).json()
                except httpx.HTTPError as error:
                    self.failures.append(f"approve: {error!r}")
                    continue
                if body.get("errors") or body["data"]["moderateComment"]["errors"]:
                    self.failures.append(json.dumps(body)[:300])
                else:
                    with self.lock:
                        self.approved += 1

    def sample(self) -> None:
        """A reader among wrk's: X-Cache of its reads of random articles."""
        ends = time.monotonic() + self.seconds
        with httpx.Client(base_url=self.base, timeout=10) as http:
            while time.monotonic() < ends:
                label = http.get(get_url(self.document_id, random.choice(self.articles)[1]),
                                 headers=reader(random.randrange(60000))).headers.get("x-cache", "-")
                self.tally[label] = self.tally.get(label, 0) + 1
                time.sleep(0.02)


def pending_comments(database: Path, count: int) -> list[str]:
    """Copies of approved comments, pending moderation (the seed approves every comment)."""
    import base64

    conn = sqlite3.connect(database)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(comment)") if row[1] != "id"]
    values = ["'pending'" if c == "status" else "NULL" if c in ("external_id", "idempotency_key") else c for c in columns]
    conn.execute(f"INSERT INTO comment ({', '.join(columns)}) SELECT {', '.join(values)} FROM comment "
                 f"WHERE status = 'approved' AND parent_id IS NULL ORDER BY id LIMIT {count}")
    conn.commit()
    ids = [r[0] for r in conn.execute("SELECT id FROM comment WHERE status = 'pending' ORDER BY id")]
    conn.close()
    return [base64.b64encode(f"Comment:{pk}".encode()).decode() for pk in ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mixed-seconds", type=int, default=30)
    args = parser.parse_args()

    wrk = ensure_wrk()
    scratch = Path(tempfile.mkdtemp(prefix="masthead-bench-cache-"))
    database = scratch / "bench.sqlite3"
    url = f"sqlite://{database}"
    print(f"Seeding {args.articles} articles x {args.comments} comments into {url}", flush=True)
    seed(url, args.articles, args.comments)
    conn = sqlite3.connect(database)
    rows = conn.execute("SELECT id, url_path FROM page WHERE kind = 'article' ORDER BY (id * 7919) % 100003 LIMIT 1000").fetchall()
    conn.close()
    import base64

    articles = [(base64.b64encode(f"ArticlePage:{pk}".encode()).decode(), path) for pk, path in rows]
    paths = [path for _, path in articles]
    (scratch / "paths.txt").write_text("\n".join(paths) + "\n")

    base_env = {**os.environ, "MASTHEAD_DATABASE_URL": url, "HOST": "127.0.0.1", "MASTHEAD_TRUSTED_PROXIES": "127.0.0.1",
                "BENCH_PATHS": str(scratch / "paths.txt"), "BENCH_QUERY_FILE": str(CONTRACT)}
    base_env.pop("MASTHEAD_REDIS_URL", None)
    cli(base_env, "operations", "register", str(CONTRACT))
    import hashlib

    document_id = "sha256:" + hashlib.sha256(CONTRACT.read_text().encode()).hexdigest()
    base_env["BENCH_DOCUMENT_ID"] = document_id
    editor = cli(base_env, "token", "create", "--role", "publisher", "--name", "bench-desk").strip().splitlines()[-1]
    moderator = cli(base_env, "token", "create", "--role", "moderator", "--name", "bench-mod").strip().splitlines()[-1]

    results: dict = {"articles": args.articles, "connections": args.connections, "workers": args.workers,
                     "seconds": args.seconds}

    def serve(extra: dict) -> tuple[subprocess.Popen, int, dict]:
        port = free_port()
        env = {**base_env, "PORT": str(port), **extra}
        return start([str(BIN / "masthead"), "serve", "--workers", str(args.workers), "--no-migrate"], env, port), port, env

    # 1. uncached, over POST (the ArticlePage of `make bench`)
    service, port, env = serve({"MASTHEAD_RESPONSE_CACHE_BYTES": "0"})
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            sample = http.get(get_url(document_id, paths[0])).content
        body_file = scratch / "body.json"
        body_file.write_bytes(b'{"data":' + b"x" * max(0, len(sample) - 10) + b"}")
        ceiling_port = free_port()
        ceiling = start([str(BIN / "uvicorn"), "ceiling:app", "--app-dir", str(BENCH), "--host", "127.0.0.1",
                         "--port", str(ceiling_port), "--workers", str(args.workers), "--no-access-log", "--log-level", "warning"],
                        {**env, "BENCH_BODY_FILE": str(body_file)}, ceiling_port)
        run_wrk(wrk, port, env, 3, args.connections)
        uncached = with_cpu(service, lambda: run_wrk(wrk, port, env, args.seconds, args.connections))
        bare = with_cpu(ceiling, lambda: run_wrk(wrk, ceiling_port, env, args.seconds, args.connections))
        bare_get = with_cpu(ceiling, lambda: wrk_get(wrk, ceiling_port, env, args.seconds, args.connections))
        results["response_bytes"] = len(sample)
        results["ceiling_rps"] = round(bare["rps"], 1)
        results["ceiling_get_rps"] = round(bare_get["rps"], 1)
        results["ceiling_cpu_us"] = round(bare["cpu_us"], 1)
        results["ceiling_get_cpu_us"] = round(bare_get["cpu_us"], 1)
        results["uncached"] = summary(uncached, bare, peak_rss_mb(worker_pids(service)))
        print("uncached", results["uncached"], flush=True)
    finally:
        stop(service)

    try:
        # 2. persisted GET, in-process cache warm; 3. through Varnish in front of it
        service, port, env = serve({})
        try:
            results["in_process_warm_tally"] = warm(f"http://127.0.0.1:{port}", document_id, paths)
            cached = with_cpu(service, lambda: wrk_get(wrk, port, env, args.seconds, args.connections))
            results["in_process"] = summary(cached, bare_get, peak_rss_mb(worker_pids(service)))
            print("in-process cache", results["in_process"], flush=True)
            if VARNISHD:
                varnish, varnish_port = start_varnish(port, scratch)
                try:
                    results["varnish_warm_tally"] = warm(f"http://127.0.0.1:{varnish_port}", document_id, paths)
                    edge = with_cpu(varnish, lambda: wrk_get(wrk, varnish_port, env, args.seconds, args.connections))
                    results["varnish"] = summary(edge, bare_get, [])
                    print("varnish", results["varnish"], flush=True)
                finally:
                    stop(varnish)
            else:
                results["varnish"] = "skipped: varnishd is not installed (apt-get install varnish varnish-modules)"
        finally:
            stop(service)

        # 4. the cache in Redis
        if redis_answers():
            subprocess.run(["redis-cli", "-n", "7", "flushdb"], check=True, capture_output=True)
            service, port, env = serve({"MASTHEAD_REDIS_URL": "redis://127.0.0.1:6379/7"})
            try:
                results["redis_warm_tally"] = warm(f"http://127.0.0.1:{port}", document_id, paths, rounds=1)
                shared = with_cpu(service, lambda: wrk_get(wrk, port, env, args.seconds, args.connections))
                results["redis"] = summary(shared, bare_get, peak_rss_mb(worker_pids(service)))
                print("redis cache", results["redis"], flush=True)
            finally:
                stop(service)
        else:
            results["redis"] = "skipped: Redis does not answer on 127.0.0.1:6379"

        # 5. mixed: cached reads while the newsroom works
        pending = pending_comments(database, int(20 * args.mixed_seconds * 1.2))
        service, port, env = serve({"MASTHEAD_RATE_POINTS": "0"})
        try:
            warm(f"http://127.0.0.1:{port}", document_id, paths, rounds=1)
            newsroom = Newsroom(f"http://127.0.0.1:{port}", document_id, articles, pending, editor, moderator, 20,
                                args.mixed_seconds)
            newsroom.start()
            mixed = with_cpu(service, lambda: wrk_get(wrk, port, env, args.mixed_seconds, args.connections))
            newsroom.join()
            sampled = sum(newsroom.tally.values()) or 1
            results["mixed"] = {
                **summary(mixed, bare_get, peak_rss_mb(worker_pids(service))),
                "published": newsroom.published,
                "approved": newsroom.approved,
                "approvals_per_second": round(newsroom.approved / args.mixed_seconds, 1),
                "sampled_hit_ratio": round(newsroom.tally.get("HIT", 0) / sampled, 3),
                "sampled_reads": sampled,
                "staleness_max_s": round(max(newsroom.staleness), 3) if newsroom.staleness else None,
                "staleness_median_s": round(statistics.median(newsroom.staleness), 3) if newsroom.staleness else None,
                "publish_median_s": round(statistics.median(newsroom.publish_seconds), 3) if newsroom.publish_seconds else None,
                "publish_max_s": round(max(newsroom.publish_seconds), 3) if newsroom.publish_seconds else None,
                "failures": newsroom.failures[:3],
            }
            print("mixed", results["mixed"], flush=True)
        finally:
            stop(service)
    finally:
        stop(ceiling)

    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / f"cache_{args.articles}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    shutil.rmtree(scratch, ignore_errors=True)


def summary(ours: dict, bare: dict, rss: list[float]) -> dict:
    """Our run beside the ceiling's: in requests a second, and in server CPU time per request."""
    return {
        "rps": round(ours["rps"], 1),
        "p50_ms": round(ours["p50_ms"], 2),
        "p99_ms": round(ours["p99_ms"], 2),
        "errors": ours["errors"] + ours["non2xx"],
        "percent_of_ceiling": round(100 * ours["rps"] / bare["rps"], 1),
        "cpu_us_per_request": round(ours["cpu_us"], 1),
        "cpu_percent_of_ceiling": round(100 * bare["cpu_us"] / ours["cpu_us"], 1) if ours["cpu_us"] else None,
        "peak_rss_mb_per_worker": [round(x, 1) for x in rss],
    }


if __name__ == "__main__":
    main()
