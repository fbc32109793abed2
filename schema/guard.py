"""What a document may ask, checked before anything executes.

One schema extension parses (with a size and a token limit), counts field
selections, checks depth, aliases and directives, validates, and takes the
document's cost (schema/cost.py) from its client's budget; each result is cached
by document, so a known operation costs a few dictionary lookups.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse, validate
from graphql.error import GraphQLSyntaxError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from schema import document as documents
from schema.cost import Cost, measure
from schema.runtime.graphql_internals import STRAWBERRY_VALIDATION_RULES, core_schema, provided_operation_name
from service import auth, operations
from service.http import RequestState, budget_key, client_address
from service.models import Role

MAX_VALIDATION_ERRORS = 10  # then graphql-core stops validating ("Too many validation errors")
MAX_CACHED_QUERY = 16_384  # longer documents (comments do not count as tokens) are parsed each time, never kept


@dataclass(frozen=True)
class Limits:
    depth: int = 12
    aliases: int = 30
    tokens: int = 1000
    directives: int = 5  # on one field
    nodes: int = 50_000
    document_bytes: int = 16_384
    document_bytes_editor: int = 131_072
    fields: int = 1_000  # field selections, fragments expanded
    field_pairs: int = 200  # same-named fields at one place, compared pairwise by validation


def _error(message: str, code: str, **extra: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extra})


def check(cost: Cost, limits: Limits) -> GraphQLError | None:
    if cost.depth > limits.depth:
        return _error(f"The query is {cost.depth} levels deep; the limit is {limits.depth}.", "QUERY_TOO_DEEP",
                      depth=cost.depth, limit=limits.depth)
    if cost.aliases > limits.aliases:
        return _error(f"The query uses {cost.aliases} aliases; the limit is {limits.aliases}.", "TOO_MANY_ALIASES",
                      aliases=cost.aliases, limit=limits.aliases)
    if cost.directives > limits.directives:
        return _error(f"A field carries {cost.directives} directives; the limit is {limits.directives}.",
                      "TOO_MANY_DIRECTIVES", limit=limits.directives)
    if cost.nodes > limits.nodes:
        return _error(
            f"The query may return {cost.nodes} objects; the limit is {limits.nodes}. Ask for smaller pages (`first`).",
            "QUERY_TOO_COMPLEX", cost=cost.nodes, limit=limits.nodes,
        )
    return None


_LIMITS: dict[int, tuple] = {}


def limits_of(settings) -> Limits:
    """The limits a Settings object asks for (made once per settings object)."""
    found = _LIMITS.get(id(settings))
    if found is None or found[0] is not settings:
        found = _LIMITS[id(settings)] = (settings, Limits(
            depth=settings.max_depth, aliases=settings.max_aliases, tokens=settings.max_tokens,
            directives=settings.max_directives, nodes=settings.max_nodes,
            document_bytes=settings.max_document_bytes, document_bytes_editor=settings.max_document_bytes_editor,
            fields=settings.max_fields, field_pairs=settings.max_field_pairs,
        ))
    return found[1]


def client_key(request, settings) -> str:
    """The budget key of a request's address (the door in schema.http has usually found it already)."""
    state = RequestState.of(request)
    if state is not None and state.client:
        return state.client
    return budget_key(client_address(request, settings.trusted_proxies))


class _LRU(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key, value) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class Guard(SchemaExtension):
    """Size, parse (token limit), count fields, check limits, measure cost, validate; all cached.

    Each request paid a point at the door (schema.http) before any of this.
    Reading a document it has not seen (lexing, parsing, counting, validating) is
    charged to the caller's address by the CPU time it took, refused or not, and
    the operation's points are taken before it executes. What could make that
    reading slow is refused before it starts: documents over a size in bytes
    (before lexing), over a token count (while parsing), with more field
    selections or same-named field pairs than allowed (before validation).

    The validation result is cached by the parsed document's identity (the parse
    cache returns the same object for the same text): strawberry's own
    ValidationCache hashes the whole syntax tree on every request instead.
    Introspection is refused where the settings close it, unless the caller holds
    an editor token.
    """

    _parsed: _LRU = _LRU(512)
    _validated: _LRU = _LRU(512)
    _costs: _LRU = _LRU(2048)
    _counted: _LRU = _LRU(512)

    @property
    def limits(self) -> Limits:
        settings = getattr(self.execution_context.context, "settings", None)
        return limits_of(settings) if settings is not None else Limits()

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        query = context.query
        settings = getattr(context.context, "settings", None)
        if query:
            await self._check_size(query)
        if query and settings is not None and settings.trusted_documents == "only":
            await self._trusted(context, query)
        if query:
            tokens = self.limits.tokens
            cacheable = len(query) <= MAX_CACHED_QUERY
            found = self._parsed.get((query, tokens)) if cacheable else None
            if found is None:
                started = time.thread_time()
                try:
                    found = self._parse(query, tokens)
                finally:
                    await self._charge_work(time.thread_time() - started)
                if cacheable:
                    self._remember(self._parsed, (query, tokens), found)
            context.graphql_document = found
        yield

    def _parse(self, query: str, tokens: int):
        try:
            document = parse(query, max_tokens=tokens)
        except GraphQLSyntaxError as error:
            if "tokens" in error.message:
                error = _error(f"The document has more than {tokens} tokens.", "TOO_MANY_TOKENS", limit=tokens)
            else:
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_PARSE_FAILED"}
            raise error from None
        if documents.may_hold_nul(query) and documents.holds_nul(document):
            raise _error("A string in the document contains a NUL character, which no argument accepts.",
                         "BAD_USER_INPUT")
        return document

    async def _check_size(self, query: str) -> None:
        """Refuse a document over the size limit before a single character of it is lexed."""
        limits = self.limits
        if len(query) * 4 <= limits.document_bytes:  # UTF-8 needs at most 4 bytes a character
            return
        size = len(query.encode("utf-8", "surrogatepass"))
        if size <= limits.document_bytes:
            return
        editor = await self._editor()  # a token lookup, for oversized documents only
        limit = limits.document_bytes_editor if editor else limits.document_bytes
        if size <= limit:
            return
        raise _error(f"The document is {size} bytes long; the limit is {limit}.", "DOCUMENT_TOO_LARGE",
                     size=size, limit=limit)

    async def _editor(self) -> bool:
        request_context = self.execution_context.context
        token = await request_context.token() if hasattr(request_context, "token") else None
        return token is not None and auth.allows(token.role, Role.EDITOR)

    @staticmethod
    async def _trusted(context, query: str) -> None:
        """Trusted-documents mode: anonymous callers run registered operations only."""
        if await operations.trusted(operations.sha256(query)):
            return
        token = await context.context.token()
        if token is not None and auth.allows(token.role, Role.EDITOR):
            return
        raise _error("Only registered operations are accepted here (trusted documents); "
                     "register it with `masthead operations register`.", "OPERATION_NOT_TRUSTED")

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        request_context = context.context
        settings = getattr(request_context, "settings", None)
        token = await request_context.token() if hasattr(request_context, "token") else None
        editor = token is not None and auth.allows(token.role, Role.EDITOR)
        # What the client sent: strawberry's operation_name falls back to the first operation.
        errors = self._pick_operation(document, provided_operation_name(context))
        request = getattr(request_context, "request", None)
        if not errors and getattr(request, "scope", {}).get("type") == "http" and any(
            isinstance(d, OperationDefinitionNode) and d.operation.value == "subscription" for d in document.definitions
        ):
            errors = [_error("Subscriptions run over a WebSocket (graphql-transport-ws) on /graphql.", "BAD_REQUEST")]
        started = time.thread_time()
        cost = None
        if not errors:
            # Size first: what validation compares pairwise, depth, aliases and directives bound its work.
            errors = self._count(document)
        if not errors:
            cost = self._measure(context)
            problem = check(cost, self.limits) if cost is not None else None
            errors = [problem] if problem is not None else []
        if not errors:
            errors = self._validate(context, document, settings, editor)
        await self._charge_work(time.thread_time() - started)
        if errors:
            self._forget_new()
        if cost is not None and not errors:
            context.cost = cost
            if request is not None and settings is not None:
                problem = await self._spend(request_context, settings, token, cost)
                if problem is not None:
                    errors = [problem]
        context.pre_execution_errors = errors
        yield

    def _remember(self, cache: _LRU, key, value) -> None:
        """Cache what this request learnt, noting it while the document is new (not yet known valid)."""
        cache.put(key, value)
        self.__dict__.setdefault("_new", []).append((cache, key))

    def _forget_new(self) -> None:
        """A new document that was refused leaves no trace in the caches.

        Hostile documents are new every time: kept, hundreds of their syntax trees
        would sit in memory, and every full garbage collection would walk them
        (tens of milliseconds, on every request that happened to trigger one).
        """
        for cache, key in self.__dict__.pop("_new", ()):
            cache.pop(key, None)

    def _count(self, document) -> list[GraphQLError]:
        """Refuse documents whose field selections would make validation slow (cached per document)."""
        limits = self.limits
        key = (id(document), limits.fields)
        entry = self._counted.get(key)
        if entry is not None and entry[0] is document:
            fields = entry[1]
        else:
            fields = documents.count(document, limits.fields)
            self._remember(self._counted, key, (document, fields))
        if not fields.complete or fields.selections > limits.fields:
            return [_error(f"The document selects more than {limits.fields} fields (fragments expanded where they "
                           "are spread).", "TOO_MANY_FIELDS", limit=limits.fields)]
        if fields.pairs > limits.field_pairs:
            return [_error(f"The document selects the same fields at the same place too often ({fields.pairs} pairs "
                           f"to compare; the limit is {limits.field_pairs}): select each field once.",
                           "TOO_MANY_FIELDS", pairs=fields.pairs, limit=limits.field_pairs)]
        return []

    async def _charge_work(self, seconds: float) -> None:
        """Charge the CPU time spent reading a document to the caller's address."""
        request_context = self.execution_context.context
        budget = getattr(request_context, "budget", None)
        settings = getattr(request_context, "settings", None)
        request = getattr(request_context, "request", None)
        if budget is None or settings is None or request is None or seconds <= 0:
            return
        await budget.charge(client_key(request, settings), seconds * 1000 * settings.work_points_per_ms)

    @staticmethod
    def _pick_operation(document, operation_name: str | None) -> list[GraphQLError]:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None and len(operations) > 1:
            return [_error("The document has several operations: say which to run with operationName.", "BAD_REQUEST")]
        if operation_name is not None and not any(o.name and o.name.value == operation_name for o in operations):
            return [_error(f"The document has no operation named {operation_name[:100]!r}.", "BAD_REQUEST")]
        return []

    def _validate(self, context, document, settings, editor: bool) -> list[GraphQLError]:
        rules = tuple(context.validation_rules)
        if settings is not None and not settings.introspection_open and not editor:
            rules += (NoSchemaIntrospectionCustomRule,)
        key = (id(document), rules)
        entry = self._validated.get(key)
        if entry is not None and entry[0] is document:
            return entry[1]
        # strawberry's validate_document with an error limit: each error (with its "Did you mean"
        # suggestions) costs tens of microseconds, and a document can be made of nothing but errors.
        errors = validate(core_schema(context.schema), document, (*rules, *STRAWBERRY_VALIDATION_RULES),
                          max_errors=MAX_VALIDATION_ERRORS)
        for error in errors:
            error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
        self._remember(self._validated, key, (document, errors))
        return errors

    async def _spend(self, request_context, settings, token, cost: Cost) -> GraphQLError | None:
        """Take the operation's points from its client (its token, or its address); None when they fit."""
        budget = getattr(request_context, "budget", None)
        if budget is None:
            return None
        address = client_key(request_context.request, settings)
        client = f"token:{token.id}" if token is not None else address
        points = cost.points
        state = RequestState.of(request_context.request)
        if client == address and state is not None and state.prepaid:
            points -= state.prepaid  # the point paid at the door (once a request, batch or not)
            state.prepaid = 0
        elif client == address and getattr(request_context, "prepaid", 0):
            points -= request_context.prepaid  # a WebSocket operation's door (schema.sockets)
            request_context.prepaid = 0
        wait = await budget.take(client, points) if points > 0 else 0
        if not wait:
            return None
        return _error(
            f"Rate limit: this client spent its {settings.rate_points} points for the minute; retry in {wait} s.",
            "RATE_LIMITED", retryAfter=wait, cost=cost.points,
        )

    def _measure(self, context) -> Cost | None:
        variables = context.variables or {}
        document = context.graphql_document
        ints = tuple(sorted((k, v) for k, v in variables.items() if isinstance(v, (int, float)) and not isinstance(v, bool)))
        key = (id(document), context.operation_name, ints)
        entry = self._costs.get(key)
        if entry is not None and entry[0] is document:
            return entry[1]
        cost = measure(core_schema(context.schema), document, context.operation_name, variables)
        self._remember(self._costs, key, (document, cost))
        return cost

    def get_results(self) -> dict[str, Any]:
        cost = getattr(self.execution_context, "cost", None)
        if cost is None:
            return {}
        return {"cost": {"nodes": cost.nodes, "points": cost.points, "depth": cost.depth, "limit": self.limits.nodes}}
