"""Serve the newsroom site; with --with-api, the API too, on the demo newsroom (`make frontend`).

With --with-api it does what a deployment of a frontend build does, in order:
migrate the API's database, register the site's operations (its persisted-query
manifest) with `masthead operations register`, start `masthead serve --seed-demo`,
then serve the site until interrupted, and stop the API.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import uvicorn

from examples.newsroom import manifest
from examples.newsroom.app import create_app
from examples.newsroom.settings import Settings


def masthead(*args: str, env: dict[str, str]) -> None:
    command = [str(Path(sys.executable).with_name("masthead")), *args]
    subprocess.run(command, env=env, check=True)


def start_api(port: int, manifest_path: Path) -> subprocess.Popen:
    env = {**os.environ, "PORT": str(port)}
    masthead("migrate", env=env)
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest.main(["-o", str(manifest_path)])
    masthead("operations", "register", str(manifest_path), env=env)
    api = subprocess.Popen([str(Path(sys.executable).with_name("masthead")), "serve", "--seed-demo"], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if api.poll() is not None:
                raise SystemExit(f"the API exited with {api.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    return api
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit("the API did not come up within 120 s")
    except BaseException:  # interrupted, or it never came up: leave no API behind
        stop(api)
        raise


def stop(api: subprocess.Popen) -> None:
    api.send_signal(signal.SIGTERM)
    try:
        api.wait(timeout=15)
    except subprocess.TimeoutExpired:
        api.kill()
        api.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.newsroom", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--with-api", action="store_true", help="also migrate, register the operations and serve the API")
    parser.add_argument("--manifest", default="data/newsroom-operations.json", help="where --with-api writes the manifest")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    api = None
    if args.with_api:
        # Until uvicorn takes the signals over, SIGTERM unwinds like Ctrl+C, so no API is left behind.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        api = start_api(int(os.environ.get("PORT") or 8000), Path(args.manifest))
    print(f"The newsroom: http://{settings.host}:{settings.port}/ (API {settings.api_url}/graphql)", flush=True)
    try:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info",
                    proxy_headers=False, timeout_graceful_shutdown=5)
    finally:
        if api is not None:
            stop(api)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
