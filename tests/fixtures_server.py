"""Real servers on loopback: `masthead serve` subprocesses, and the databases they run on."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from fixtures_app import create_postgres_database, drop_postgres_database, postgres_server_url
from fixtures_cli import run_cli


@pytest.fixture(scope="session")
async def scratch_database(tmp_path_factory):
    """Make fresh, migrated databases for tests that run their own processes.

    Migrating takes 1-2 s of a fresh process: the first migrated database of each backend is
    kept as a template (the session's own, never served) and later ones are copies of it."""
    made: list[str] = []
    templates: dict[str, str] = {}

    async def make(backend: str, migrated: bool = True) -> str:
        if backend == "sqlite":
            url = f"sqlite://{tmp_path_factory.mktemp('db') / 'masthead.sqlite3'}"
            if migrated:
                if "sqlite" not in templates:
                    templates["sqlite"] = f"sqlite://{tmp_path_factory.mktemp('template') / 'masthead.sqlite3'}"
                    run_cli("migrate", database_url=templates["sqlite"])
                shutil.copyfile(templates["sqlite"].split("://", 1)[1], url.split("://", 1)[1])
            return url
        if not migrated:
            url = await create_postgres_database(postgres_server_url())
            made.append(url)
            return url
        if "postgres" not in templates:
            templates["postgres"] = await create_postgres_database(postgres_server_url())
            made.append(templates["postgres"])
            run_cli("migrate", database_url=templates["postgres"])
        url = await create_postgres_database(postgres_server_url(), template=templates["postgres"])
        made.append(url)
        return url

    yield make
    for url in reversed(made):  # copies before their template
        await drop_postgres_database(url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A subprocess the tests started, its output kept in a file, stopped by its PID."""

    process: subprocess.Popen
    log: "tempfile._TemporaryFileWrapper"

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def wait_until(self, ready, what: str, timeout: float = 60) -> None:
        """Poll `ready()` (httpx errors mean not yet) until it is true; fail if the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{what} exited: {self.output()}")
            try:
                if ready():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{what} did not come up: {self.output()}")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.output()


class Server(Process):
    def __init__(self, url: str, *args: str, env: dict | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "MASTHEAD_DATABASE_URL": url, "PORT": str(self.port), "HOST": "127.0.0.1", **(env or {})}
        masthead = Path(sys.executable).with_name("masthead")
        # Output goes to a file: a pipe nobody reads fills up, and the service blocks on its next log line.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen([str(masthead), "serve", *args], env=env, stdout=self.log, stderr=subprocess.STDOUT, text=True)

    def wait(self, timeout: float = 60) -> None:
        self.wait_until(lambda: httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200, "server", timeout)


@pytest.fixture
def serve():
    started: list[Server] = []

    def start(url: str, *args: str, env: dict | None = None, port: int | None = None, wait: bool = True) -> Server:
        """A running `masthead serve`; wait=False returns at once (start several, then .wait() each)."""
        server = Server(url, *args, env=env, port=port)
        started.append(server)
        if wait:
            server.wait()
        return server

    yield start
    for server in started:
        server.stop()
        server.log.close()
