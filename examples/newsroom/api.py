"""Masthead over HTTP: every read a persisted operation sent by GET, mutations by hash over POST.

Reads go out as GraphQL over HTTP's persisted documents,
`GET /graphql?documentId=sha256:<hex>&variables=...&operationName=...`, so a cache
in front of the API (Varnish, a CDN, the API's own) keys on the URL and serves
them. When the API does not know a hash yet (the manifest was not registered),
the client sends the document once with its hash, as Apollo's automatic
persisted queries do, and by hash again after that; an API that accepts only
registered documents refuses that, and the page says the API is unavailable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from examples.newsroom.manifest import Operation


class ApiUnavailable(Exception):
    """The API did not answer, or answered that it cannot (5xx, 429): the site shows its 503 page."""

    def __init__(self, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass
class Result:
    """What one operation returned: its data, and its top-level errors (each with extensions.code)."""

    data: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    cache_control: str = ""

    @property
    def codes(self) -> set[str]:
        return {(error.get("extensions") or {}).get("code", "") for error in self.errors}


def _variables(variables: dict[str, Any]) -> str:
    # Leaving out nulls (every optional variable defaults to null) and sorting keys keeps URLs short and stable.
    return json.dumps({k: v for k, v in sorted(variables.items()) if v is not None}, separators=(",", ":"))


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() else None


class Masthead:
    """A client for one Masthead API, knowing the site's operations by name."""

    def __init__(self, base_url: str, operations: dict[str, Operation], *, timeout: float = 5.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.operations = operations
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                      headers={"Accept": "application/json"})

    async def aclose(self) -> None:
        await self.http.aclose()

    async def query(self, name: str, variables: dict[str, Any] | None = None, *, reader: str | None = None) -> Result:
        """Run a query by its hash over GET (cacheable); teach the API the document if it does not know it."""
        operation = self.operations[name]
        params = {"documentId": f"sha256:{operation.sha256}", "variables": _variables(variables or {}),
                  "operationName": name}
        result = await self._send("GET", params=params, reader=reader)
        if "PERSISTED_QUERY_NOT_FOUND" in result.codes:
            extensions = {"persistedQuery": {"version": 1, "sha256Hash": operation.sha256}}
            params = {"query": operation.document, "variables": params["variables"], "operationName": name,
                      "extensions": json.dumps(extensions, separators=(",", ":"))}
            result = await self._send("GET", params=params, reader=reader)
        return result

    async def mutate(self, name: str, variables: dict[str, Any], *, reader: str | None = None) -> Result:
        """Run a mutation by its hash over POST (mutations never go by GET)."""
        operation = self.operations[name]
        body: dict[str, Any] = {"operationName": name, "variables": variables,
                                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": operation.sha256}}}
        result = await self._send("POST", json=body, reader=reader)
        if "PERSISTED_QUERY_NOT_FOUND" in result.codes:
            result = await self._send("POST", json={**body, "query": operation.document}, reader=reader)
        return result

    async def document(self, path: str, if_none_match: str | None = None) -> httpx.Response:
        """A feed or sitemap as the API answered it (200, 304 or 404); ApiUnavailable when it could not."""
        headers = {"Accept": "*/*", **({"If-None-Match": if_none_match} if if_none_match else {})}
        try:
            response = await self.http.get(path, headers=headers)
        except httpx.HTTPError as error:
            raise ApiUnavailable(f"the API did not answer ({type(error).__name__})") from error
        if response.status_code >= 500 or response.status_code == 429:
            raise ApiUnavailable(f"the API answered {response.status_code}", _retry_after(response))
        return response

    async def _send(self, method: str, *, reader: str | None, **kwargs: Any) -> Result:
        # The reader's address, for the API's per-client limits; it believes it only from
        # the addresses listed in MASTHEAD_TRUSTED_PROXIES.
        headers = {"X-Forwarded-For": reader} if reader else {}
        try:
            response = await self.http.request(method, "/graphql", headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise ApiUnavailable(f"the API did not answer ({type(error).__name__})") from error
        if response.status_code >= 500 or response.status_code == 429:
            raise ApiUnavailable(f"the API answered {response.status_code}", _retry_after(response))
        try:
            payload = response.json()
        except ValueError as error:
            raise ApiUnavailable(f"the API answered {response.status_code} without JSON") from error
        if not isinstance(payload, dict):
            raise ApiUnavailable("the API answered a batch to a single operation")
        return Result(payload.get("data"), payload.get("errors") or [], response.headers.get("cache-control", ""))
