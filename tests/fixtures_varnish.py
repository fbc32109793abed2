"""A real `varnishd` on loopback running deploy/varnish/default.vcl, and a stub backend.

The VCL is the shipped one; only its backends.vcl (where the app is, who may purge) is
written per test, the way an operator replaces it. Tests skip, saying why, where
Debian's `varnish` or `varnish-modules` (vmod xkey) is not installed; `.ci/run` installs both.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import httpx
import pytest

from fixtures_server import Process, free_port

VCL_DIR = Path(__file__).resolve().parents[1] / "deploy" / "varnish"
VARNISHD = shutil.which("varnishd") or next((p for p in ("/usr/sbin/varnishd", "/usr/local/sbin/varnishd") if os.path.exists(p)), None)
LOOPBACK = ("127.0.0.1", "::1")


def render_backends(port: int, purgers: tuple[str, ...] = LOOPBACK, host: str = "127.0.0.1") -> str:
    """backends.vcl for one app instance at host:port; purgers are the ACL's addresses."""
    acl = "".join(f'    "{address}";\n' for address in purgers)
    return (
        f'backend masthead_app {{\n    .host = "{host}";\n    .port = "{port}";\n}}\n\n'
        "sub masthead_backend {\n    set req.backend_hint = masthead_app;\n}\n\n"
        f"acl masthead_purgers {{\n{acl}}}\n"
    )


def write_vcl(directory: Path, backends: str) -> Path:
    """The shipped default.vcl beside a backends.vcl of our own; returns default.vcl's path."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(VCL_DIR / "default.vcl", directory / "default.vcl")
    (directory / "backends.vcl").write_text(backends)
    return directory / "default.vcl"


def compile_vcl(path: Path) -> subprocess.CompletedProcess:
    """`varnishd -C`: compile the VCL (vmods included) without starting anything."""
    # -j none: as root, varnishd would otherwise read the file as its unprivileged user.
    return subprocess.run([VARNISHD, "-C", "-j", "none", "-f", str(path)], capture_output=True, text=True, timeout=120)


@functools.cache
def missing() -> str | None:
    """Why the Varnish tests cannot run here, or None."""
    if not VARNISHD:
        return "varnishd is not installed (Debian: apt-get install varnish varnish-modules; .ci/run does it)"
    with tempfile.TemporaryDirectory() as directory:
        probe = Path(directory) / "probe.vcl"
        probe.write_text('vcl 4.1;\nimport xkey;\nbackend none none;\n')
        result = compile_vcl(probe)
    if result.returncode != 0 and "xkey" in result.stderr:
        return f"vmod xkey is not installed (Debian: apt-get install varnish-modules): {result.stderr.strip()[-300:]}"
    assert result.returncode == 0, f"varnishd cannot compile a VCL: {result.stderr}"
    return None


def require_varnish() -> None:
    reason = missing()
    if reason:
        pytest.skip(reason)


class Varnish(Process):
    """varnishd -F in front of one backend, stopped by its PID."""

    def __init__(self, backend_port: int, purgers: tuple[str, ...] = LOOPBACK, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="masthead-varnish-"))
        vcl = write_vcl(self.dir / "vcl", render_backends(backend_port, purgers))
        self.log = tempfile.TemporaryFile(mode="w+")
        # -j none: no privilege switch (the work directory stays ours); -T none: no CLI port.
        self.process = subprocess.Popen(
            [VARNISHD, "-F", "-j", "none", "-T", "none", "-n", str(self.dir / "work"),
             "-a", f"127.0.0.1:{self.port}", "-f", str(vcl), "-s", "malloc,32m"],
            stdout=self.log, stderr=subprocess.STDOUT, text=True,
        )

    def wait(self, timeout: float = 60) -> None:
        """Up once it answers anything (PURGE without a key: 400, nothing reaches the backend)."""
        self.wait_until(lambda: httpx.request("PURGE", f"{self.base}/", timeout=1) is not None, "varnishd", timeout)

    def stop(self) -> None:
        super().stop()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def varnish():
    """start(backend_port, purgers=..., port=...) -> a running Varnish; all stopped at the end."""
    require_varnish()
    started: list[Varnish] = []

    def start(backend_port: int, purgers: tuple[str, ...] = LOOPBACK, port: int | None = None) -> Varnish:
        instance = Varnish(backend_port, purgers, port)
        started.append(instance)
        instance.wait()
        return instance

    yield start
    for instance in started:
        instance.stop()


class StubBackend:
    """An HTTP server in a thread answering what a test sets per path, counting requests."""

    def __init__(self) -> None:
        self.responses: dict[str, tuple[int, dict[str, str], str]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                stub.requests.append((self.command, self.path, dict(self.headers)))
                path = self.path.split("?", 1)[0]
                status, headers, body = stub.responses.get(self.path) or stub.responses.get(path) or (404, {}, "not found")
                body = body.replace("{n}", str(len(stub.requests)))
                data = body.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                # No kept-alive connection: once stopped, the stub answers nothing more.
                self.send_header("Connection", "close")
                self.close_connection = True
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def hits(self, path: str) -> int:
        return sum(1 for _, requested, _ in self.requests if requested == path)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub_backend():
    backend = StubBackend()
    yield backend
    backend.stop()
