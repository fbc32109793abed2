"""`make bench-feeds`: feeds and sitemaps of a large site, uncached.

Seeds the synthetic site (`masthead seed --synthetic`, no comments) into a scratch
database once (kept, by size, in the temp directory: later runs skip the seeding,
which takes minutes at 100,000 articles), serves it with `masthead serve` (one
process, response cache off, so every request builds its document), then asks
for each document RUNS times: time to first byte and total time (median), size,
and the serving process's peak RSS while answering (its high-water mark, reset
before each document). The largest monthly sitemap is found from the index.

    python bench/feeds.py --articles 100000
    python bench/feeds.py --database postgres://postgres@127.0.0.1:5432/feeds_bench
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from run import BIN, free_port, start, stop


def seeded(url: str, articles: int) -> None:
    """Migrate, and seed the synthetic site when the database has no pages yet."""
    env = {**os.environ, "MASTHEAD_DATABASE_URL": url}
    subprocess.run([BIN / "masthead", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    done = subprocess.run([BIN / "masthead", "seed", "--synthetic", "--articles", str(articles),
                           "--comments-per-article", "0"], env=env, capture_output=True, text=True)
    if done.returncode != 0 and "already has pages" not in done.stderr:
        raise SystemExit(done.stderr)
    print("seeded:", done.stdout.strip() or "already (reused)")


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux 4.0+)


def fetch(client: httpx.Client, path: str) -> tuple[float, float, int]:
    """(seconds to the first body byte, seconds in all, bytes) of one GET."""
    began = time.perf_counter()
    first, size = None, 0
    with client.stream("GET", path) as response:
        assert response.status_code == 200, (path, response.status_code)
        for chunk in response.iter_raw():
            if first is None and chunk:
                first = time.perf_counter() - began
            size += len(chunk)
    return first or 0.0, time.perf_counter() - began, size


def measure(client: httpx.Client, pid: int, path: str, runs: int) -> dict:
    fetch(client, path)  # warm the process's own memos (next change, statements)
    reset_peak(pid)
    before = rss_kb(pid, "VmRSS")
    samples = [fetch(client, path) for _ in range(runs)]
    return {
        "path": path,
        "ttfb_ms": statistics.median(s[0] for s in samples) * 1000,
        "total_ms": statistics.median(s[1] for s in samples) * 1000,
        "kb": samples[0][2] / 1024,
        "rss_mb": rss_kb(pid, "VmHWM") / 1024,
        "growth_mb": (rss_kb(pid, "VmHWM") - before) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--database", help="a database URL to use (seeded when empty); default: a kept scratch SQLite file")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url = args.database or f"sqlite://{Path(tempfile.gettempdir()) / f'masthead-feeds-{args.articles}.sqlite3'}"
    seeded(url, args.articles)
    port = free_port()
    env = {**os.environ, "MASTHEAD_DATABASE_URL": url, "PORT": str(port), "MASTHEAD_RESPONSE_CACHE_BYTES": "0",
           "MASTHEAD_BACKGROUND_JOBS": "0", "MASTHEAD_RATE_POINTS": "0"}
    server = start([str(BIN / "masthead"), "serve", "--workers", "1"], env, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            index = client.get("/sitemap.xml").text
            months = re.findall(r"/sitemaps/(pages-[0-9-]+\.xml)</loc>", index)
            sizes = {name: client.get(f"/sitemaps/{name}").text.count("<url>") for name in months}
            largest = max(sizes, key=sizes.get)
            # The first section after the home page, by the slug that ends its URL.
            section = re.findall(r"<loc>[^<]*/([a-z0-9-]+)/</loc>", client.get("/sitemaps/sections.xml").text)[0]
            paths = ["/feeds/rss.xml", "/feeds/atom.xml", f"/feeds/{section}/rss.xml", "/sitemap.xml",
                     f"/sitemaps/{largest}", "/sitemaps/sections.xml", "/sitemaps/news.xml"]
            print(f"{args.articles} articles, {len(months)} monthly sitemaps, the largest {largest} "
                  f"({sizes[largest]} URLs); median of {args.runs} uncached GETs, one serving process")
            print(f"{'document':34} {'TTFB ms':>8} {'total ms':>9} {'KiB':>7} {'peak RSS MB':>12} {'growth MB':>10}")
            for path in paths:
                row = measure(client, server.pid, path, args.runs)
                print(f"{row['path']:34} {row['ttfb_ms']:8.1f} {row['total_ms']:9.1f} {row['kb']:7.0f} "
                      f"{row['rss_mb']:12.1f} {row['growth_mb']:10.1f}")
    finally:
        stop(server)


if __name__ == "__main__":
    main()
