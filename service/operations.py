"""Trusted documents (persisted operations): the operations a frontend's build registered.

`masthead operations register` stores them by SHA-256 of their exact text, from
an Apollo persisted-query manifest, a JSON object of {hash: document}, or
.graphql files. Clients may then send only the hash (the `persistedQuery`
extension), and `MASTHEAD_TRUSTED_DOCUMENTS=only` refuses anonymous documents
that are not registered; callers with an editor token may still send any.

Clients may also register documents themselves (Apollo's automatic persisted
queries, schema/http.py): those are stored with `automatic` set, bounded by
`MASTHEAD_APQ_MAX_DOCUMENTS`, and never trusted.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tortoise.exceptions import IntegrityError

from service import models

_SHA = frozenset("0123456789abcdef")
# digest -> (when looked up, document or None, registered automatically by a client)
_CACHE: OrderedDict[str, tuple[float, str | None, bool]] = OrderedDict()
NEGATIVE_SECONDS = 10.0  # an unknown hash is asked again after this long (a deploy may register it)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def is_hash(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _SHA


def _keep(digest: str, entry: tuple[float, str | None, bool]) -> None:
    _CACHE[digest] = entry
    _CACHE.move_to_end(digest)
    if len(_CACHE) > 5000:
        _CACHE.popitem(last=False)


async def _entry(digest: str, negative: bool, automatic: bool = True) -> tuple[float, str | None, bool]:
    hit = _CACHE.get(digest)
    now = time.monotonic()
    if hit is not None and (hit[1] is not None or (negative and now - hit[0] < NEGATIVE_SECONDS)) and (
        automatic or not hit[2]
    ):
        return hit
    row = await models.PersistedOperation.get_or_none(sha256=digest)
    entry = (now, row.body if row else None, bool(row and row.automatic))
    _keep(digest, entry)
    return entry


async def lookup(digest: str, *, negative: bool = True) -> str | None:
    """The registered document with this hash (by the build or by a client), or None; cached in the process.

    `negative=False` asks the database again for a hash it did not know: where clients
    may register documents, another worker may have stored it a moment ago.
    """
    return (await _entry(digest, negative))[1]


async def trusted(digest: str) -> bool:
    """Whether the frontend's build registered this hash (`masthead operations register`)."""
    # A client's document is asked again: the build may have registered it since (a rare case, refused or not).
    _, body, automatic = await _entry(digest, True, automatic=False)
    return body is not None and not automatic


async def remember(digest: str, body: str, limit: int) -> bool:
    """Store a document a client registered (an automatic persisted query); True when it was new.

    At most `limit` such documents are kept: the oldest ones make room. Documents
    the build registered are never evicted, and stay trusted.
    """
    if limit <= 0:
        return False
    stored = False
    if not await models.PersistedOperation.exists(sha256=digest):
        excess = await models.PersistedOperation.filter(automatic=True).count() - limit + 1
        if excess > 0:
            oldest = await models.PersistedOperation.filter(automatic=True).order_by("id").limit(excess) \
                .values_list("id", "sha256")
            await models.PersistedOperation.filter(id__in=[row_id for row_id, _ in oldest]).delete()
            for _, evicted in oldest:
                _CACHE.pop(evicted, None)
        try:
            await models.PersistedOperation.create(sha256=digest, body=body, automatic=True)
            stored = True
        except IntegrityError:
            pass  # another request registered it at the same moment
    _CACHE.pop(digest, None)  # no negative entry outlives the registration
    return stored


@dataclass
class Registered:
    added: int = 0
    known: int = 0
    problems: list[str] = field(default_factory=list)


def _documents(path: Path) -> list[tuple[str, str | None, str]]:
    """(name, claimed hash or None, body) for every document a manifest or file holds."""
    if path.is_dir():
        return [item for child in sorted(path.rglob("*.graphql")) for item in _documents(child)]
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".graphql":
        return [(path.stem, None, text)]
    data = json.loads(text)
    if isinstance(data, dict) and data.get("format") == "apollo-persisted-query-manifest":
        listed = data.get("operations", [])
        if isinstance(listed, dict):  # codegen plugins that key the manifest's operations by hash
            listed = [{**op, "id": key} for key, op in listed.items() if isinstance(op, dict)]
        return [(op.get("name", ""), _hash(op.get("id")), op.get("body", "")) for op in listed if isinstance(op, dict)]
    if isinstance(data, dict):  # graphql-codegen's client preset (persisted-documents.json): {hash: document}
        return [("", _hash(key), value) for key, value in data.items()]
    raise ValueError("expected an Apollo manifest, a {hash: document} object or .graphql files")


def _hash(claimed: object) -> str | None:
    """A manifest's hash as stored: GraphQL over HTTP's `sha256:` prefix (a documentId) dropped."""
    return claimed.removeprefix("sha256:") if isinstance(claimed, str) else None


async def register(paths: list[Path], label: Callable[[str], str]) -> Registered:
    """Store the documents the paths hold, each by its hash, under the name `label` reads from it.

    `label(text)` is the name of the document's operation ("" for none) and raises
    ValueError when the text is no document (service/app.py passes the GraphQL parser's).
    """
    result = Registered()
    for path in paths:
        try:
            documents = _documents(path)
        except (OSError, ValueError) as error:
            result.problems.append(f"{path}: {error}")
            continue
        for name, claimed, body in documents:
            if not isinstance(body, str) or not body.strip():
                result.problems.append(f"{path}: {name or claimed}: no document")
                continue
            digest = sha256(body)
            if claimed is not None and claimed != digest:
                hint = " (a SHA-1: set the client preset's hashAlgorithm to 'sha256')" if len(claimed) == 40 else ""
                result.problems.append(f"{path}: {name or claimed}: its hash is not the SHA-256 of its text{hint}")
                continue
            try:
                operation_name = label(body)
            except ValueError as error:
                result.problems.append(f"{path}: {name or digest[:12]}: {error}")
                continue
            if await models.PersistedOperation.filter(sha256=digest, automatic=True).update(automatic=False):
                _CACHE.pop(digest, None)  # a client registered it first: the build's registration trusts it
                result.added += 1
                continue
            if await models.PersistedOperation.exists(sha256=digest):
                result.known += 1
                continue
            await models.PersistedOperation.create(sha256=digest, name=(name or operation_name)[:255], body=body)
            _CACHE.pop(digest, None)
            result.added += 1
    return result
