"""`make bench-restart`: how soon a restarted service answers GraphQL again.

Migrates and seeds the demo site into a scratch SQLite database once, then
starts `masthead serve --seed-demo` (the README's command: nothing to migrate,
nothing to seed) several times, timing each from the process start to its first
answered `{ site { name } }`, and SIGTERM to exit. Loopback only; about a minute.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from run import BIN, free_port


def first_answer(port: int, deadline: float) -> float:
    url = f"http://127.0.0.1:{port}/graphql"
    while time.monotonic() < deadline:
        try:
            response = httpx.post(url, json={"query": "{ site { name } }"}, timeout=1)
            if response.status_code == 200 and response.json().get("data"):
                return time.monotonic()
        except httpx.HTTPError:
            pass
        time.sleep(0.01)
    raise SystemExit("the service did not answer within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="masthead-restart-"))
    env = {**os.environ, "MASTHEAD_DATABASE_URL": f"sqlite://{scratch / 'masthead.sqlite3'}",
           "MASTHEAD_MEDIA_DIR": str(scratch / "media")}
    subprocess.run([BIN / "masthead", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([BIN / "masthead", "seed", "--demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    starts, stops = [], []
    for _ in range(args.runs):
        port = free_port()
        began = time.monotonic()
        process = subprocess.Popen([BIN / "masthead", "serve", "--seed-demo"], env={**env, "PORT": str(port)},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            starts.append(first_answer(port, began + 60) - began)
        finally:
            asked = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            stops.append(time.monotonic() - asked)
    print(f"start to first answer: median {statistics.median(starts):.2f} s, "
          f"max {max(starts):.2f} s over {len(starts)} runs ({', '.join(f'{s:.2f}' for s in starts)})")
    print(f"SIGTERM to exit: median {statistics.median(stops):.2f} s, max {max(stops):.2f} s")


if __name__ == "__main__":
    main()
