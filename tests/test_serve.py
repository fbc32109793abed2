"""A real uvicorn on loopback: `masthead serve`, health probes, GraphiQL in Chromium."""

from __future__ import annotations

import shutil
import urllib.parse

import httpx
import pytest

from conftest import BACKENDS, drop_postgres_database

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.parametrize("kind", BACKENDS)
async def test_serve_migrates_seeds_and_answers(kind, scratch_database, serve, contract):
    url = await scratch_database(kind, migrated=False)
    server = serve(url, "--seed-demo")
    async with httpx.AsyncClient(base_url=server.base) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["database"] == "ok"
        response = await http.post("/graphql", json={"query": contract["HomePage"]})
        assert response.status_code == 200
        assert response.json()["data"]["articles"]["totalCount"] == 30
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "unpkg.com" not in page.text and "/static/graphiql/graphiql.min.js" in page.text
        asset = await http.get("/static/graphiql/graphiql.min.js")
        assert asset.status_code == 200 and len(asset.content) > 100_000


@pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL is not reachable")
async def test_readyz_reports_a_lost_database(scratch_database, serve):
    url = await scratch_database("postgres")
    server = serve(url)
    async with httpx.AsyncClient(base_url=server.base) as http:
        assert (await http.get("/readyz")).status_code == 200
        await drop_postgres_database(url)
        response = await http.get("/readyz")
        assert response.status_code == 503 and response.json()["database"] == "unreachable"
        assert (await http.get("/healthz")).status_code == 200
        # Every other route answers a coded 503 too, whichever layer meets the lost database first.
        for method, path, body in (("POST", "/graphql", {"query": "{ site { name } }"}), ("GET", "/feeds/rss.xml", None),
                                   ("GET", "/sitemap.xml", None), ("GET", "/graphql?query=%7Bsite%7Bname%7D%7D", None)):
            lost = await http.request(method, path, json=body, headers={"Accept": "application/json"})
            assert lost.status_code == 503, (path, lost.status_code, lost.text)
            assert "no-store" in lost.headers["cache-control"], path
            if path.startswith("/graphql"):
                assert lost.json()["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE", path


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
async def test_graphiql_runs_a_query_offline_under_csp(scratch_database, serve):
    from playwright.async_api import async_playwright, expect

    url = await scratch_database("sqlite")
    server = serve(url, "--seed-demo")
    query = "query Masthead { site { name } }"
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))
            outside: list[str] = []
            page.on("request", lambda r: r.url.startswith(server.base) or r.url.startswith("data:") or outside.append(r.url))
            await page.add_init_script(
                "window.__csp=[];document.addEventListener('securitypolicyviolation',"
                "e=>window.__csp.push(e.violatedDirective+' '+e.blockedURI));"
            )
            await page.goto(f"{server.base}/graphql?q={urllib.parse.quote(query)}", wait_until="networkidle")
            await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_contain_text("Masthead", timeout=20_000)
            await page.click(".graphiql-execute-button")
            await expect(page.locator(".graphiql-response .CodeMirror")).to_contain_text('"The Northgate Courier"', timeout=20_000)
            assert await page.evaluate("window.__csp") == []
            assert errors == [] and outside == []
        finally:
            await browser.close()


@pytest.mark.parametrize("written", ["sqlite:///{path}", "sqlite:////{bare}"])
async def test_sqlite_files_anywhere_serve_reads(tmp_path, serve, contract, written):
    """A database file in a folder whose name needs escaping in a URI, written with three or four
    slashes, serves the same reads: the inline reader opens that very file, never an error."""
    folder = tmp_path / "news 100% room"
    folder.mkdir()
    path = folder / "masthead.sqlite3"
    url = written.format(path=path, bare=str(path).lstrip("/"))
    server = serve(url, "--seed-demo")
    async with httpx.AsyncClient(base_url=server.base) as http:
        for _ in range(2):  # the second read is the cached one's way in: both answer
            response = await http.post("/graphql", json={"query": contract["HomePage"]})
            assert response.status_code == 200, response.text
            assert response.json()["data"]["articles"]["totalCount"] == 30
    assert path.stat().st_size > 0 and sorted(p.name for p in folder.iterdir())[0] == "masthead.sqlite3"


def _exchange(sock, host: str) -> bytes:
    """One GET /healthz on the socket, its whole response read (head, then Content-Length bytes)."""
    sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return head


async def test_idle_keep_alive_connections_outlast_a_proxys_reuse(scratch_database, serve):
    """A proxy reuses idle connections for up to 60 s: the service keeps them longer (65 s by default,
    MASTHEAD_KEEP_ALIVE_SECONDS), so a request never races the service's close of the connection."""
    import socket
    import time

    from service.settings import Settings

    assert Settings().keep_alive_seconds > 60
    server = serve(await scratch_database("sqlite"), env={"MASTHEAD_KEEP_ALIVE_SECONDS": "2"})
    host = server.base.split("//", 1)[1]
    address, port = host.rsplit(":", 1)
    with socket.create_connection((address, int(port)), timeout=5) as sock:
        assert _exchange(sock, host).startswith(b"HTTP/1.1 200")
        time.sleep(1)  # idle, within the setting: the same connection answers
        assert _exchange(sock, host).startswith(b"HTTP/1.1 200")
        time.sleep(3)  # idle past it: the service has closed the connection
        assert sock.recv(1) == b""
