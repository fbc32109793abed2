"""GraphQL over HTTP: the /graphql view and what it enforces before and after execution.

- Content negotiation (GraphQL over HTTP): `application/graphql-response+json`
  when the client accepts it, with 400 for requests that never reached execution
  (syntax, validation, limits, variables) and 200 once execution started;
  `application/json` (always 200 for GraphQL errors) for older clients.
- Methods and media types: GET runs queries only (a mutation is 405); POST takes
  JSON, or multipart uploads with a preflight header (CSRF); anything a plain
  HTML form can send is 415. A GET that carries a query, extensions or a
  documentId gets a GraphQL answer whatever its Accept; a bare one from a
  browser gets GraphiQL.
- Persisted operations: a hash instead of the document, as the `persistedQuery`
  extension (Apollo) or `documentId=sha256:<hex>` (GraphQL over HTTP). Apollo's
  automatic persisted queries register a document sent with its hash once it
  has passed the guard (never under MASTHEAD_TRUSTED_DOCUMENTS=only; at most
  MASTHEAD_APQ_MAX_DOCUMENTS of them, service/operations.py).
- Limits: variables size, array batching (off unless configured), a deadline per
  request, and the per-client cost budget (429 with Retry-After). Every request
  pays a point at the door, before its body is read: a client whose budget is
  spent costs one bucket lookup, never a parse (schema/guard.py charges the rest).
- Errors: anything unexpected is logged with a request id; in production the
  client gets "Unexpected error." and that id, never the details, and no
  "Did you mean" suggestions.
"""

from __future__ import annotations

import asyncio
import logging
import re
from http import HTTPStatus
from pathlib import Path

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from schema import caching, graphiql, schema as graphql_schema
from schema.context import Context
from schema.errors import deliberate, log_coded
from schema.requests import preflighted, refusal
from schema.sockets import SocketAdapter, SocketHandler
from service import operations
from service.db import StatementTimeout, database_unavailable, within
from service.http import BODY_POINT_BYTES, RequestState, door_fee
from service.limits import budget_for
from service.settings import Settings

log = logging.getLogger("masthead.graphql")

GRAPHQL_RESPONSE = "application/graphql-response+json"
GRAPHIQL_HTML = Path(__file__).parent / "graphiql.html"
# GraphiQL's page and assets come from this service only; nothing inline, no CDN.
# The one style hash is the constant <style> GraphiQL's dialogs insert while open.
GRAPHIQL_CSP = (
    "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc='; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# Errors the API raises on purpose carry a code; anything else is unexpected.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
UNAVAILABLE_MESSAGE = "The database is not reachable right now; try again shortly."


REGISTER_POINTS = 10  # storing a client's document (an automatic persisted query) is a write


class PersistedProblem(Exception):
    """A persisted-operation request that makes no sense (a malformed hash, a hash that is not the document's)."""


class UnknownOperation(Exception):
    def __init__(self, digest: str) -> None:
        super().__init__(digest)
        self.digest = digest


def _state(request) -> RequestState:
    """The request's state, made by its door (or here, for a request no door saw)."""
    return RequestState.of(request) or RequestState.begin(request)


class MastheadGraphQL(GraphQL):
    # WebSockets: graphql-transport-ws only (schema/sockets.py); the legacy graphql-ws
    # protocol (subscriptions-transport-ws, unmaintained since 2018) is not offered.
    graphql_transport_ws_handler_class = SocketHandler
    websocket_adapter_class = SocketAdapter

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            graphql_schema,
            graphql_ide="graphiql" if settings.graphiql_open else None,
            multipart_uploads_enabled=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # Browsers on the origins allowed to call the API (CORS) may open its WebSocket too.
            allowed_origins=settings.cors_origins,
        )
        self.settings = settings
        # A full bucket holds rate_burst_seconds of the budget, never less than the largest
        # operation the limits let through (and a megabyte body's door fee).
        largest = 1 + settings.max_nodes // 100 + settings.max_body_bytes // BODY_POINT_BYTES
        burst = max(settings.rate_points * settings.rate_burst_seconds / 60, largest)
        self.budget = budget_for(settings.rate_points, settings.redis_url, burst)
        self._ide_html = GRAPHIQL_HTML.read_text() if GRAPHIQL_HTML.exists() else ""

    # -- request ------------------------------------------------------------------

    async def run(self, request, *args, **kwargs):
        if not isinstance(request, Request):
            return await super().run(request, *args, **kwargs)
        if RequestState.of(request) is None:  # the Door middleware has not seen it (an app built without it)
            refused = await self.door(request)
            if refused is not None:
                return refused
        state = _state(request)
        try:
            response = await super().run(request, *args, **kwargs)
        except HTTPException as error:
            # The client's mistake: one line, never the body (it can hold personal data).
            log.info("client error [%s] HTTP %d", state.request_id, error.status_code)
            response = PlainTextResponse(error.reason, status_code=int(error.status_code))
        except PersistedProblem as error:
            response = JSONResponse({"errors": [{"message": str(error), "extensions": {"code": "BAD_REQUEST"}}]},
                                    status_code=HTTPStatus.BAD_REQUEST)
        except UnknownOperation as error:
            # Apollo's persisted-query protocol: the client may send the whole document instead.
            response = JSONResponse({"errors": [{"message": "PersistedQueryNotFound", "extensions": {
                "code": "PERSISTED_QUERY_NOT_FOUND", "sha256Hash": error.digest}}]})
        except Exception as error:  # noqa: BLE001 - whatever escaped: a coded JSON answer, never a bare 500
            if database_unavailable(error):
                state.status, state.unavailable = HTTPStatus.SERVICE_UNAVAILABLE, True
                response = JSONResponse({"errors": [{"message": UNAVAILABLE_MESSAGE,
                                                     "extensions": {"code": "DATABASE_UNAVAILABLE"}}]})
            else:
                log.error("unexpected error [%s] handling the request", state.request_id, exc_info=error)
                response = JSONResponse({"errors": [{"message": "Unexpected error.", "extensions": {
                    "code": "INTERNAL_SERVER_ERROR", "requestId": state.request_id}}]},
                    status_code=HTTPStatus.INTERNAL_SERVER_ERROR)
        finally:
            await request.close()  # a multipart request's uploaded files are temporary files
        response = self._finish(request, response, state)
        try:
            return await caching.offer(request, response, state, self.settings)
        except Exception as error:  # noqa: BLE001 - the answer is made: deliver it, uncached, rather than lose it
            log.warning("cache headers failed [%s]: %s", state.request_id, error)
            return caching.private(response)

    async def door(self, request: Request) -> Response | None:
        """service.http.Door's charge, for a request that came by no Door (an app built without it)."""
        headers = dict(request.scope["headers"])
        state = RequestState.arriving(request.scope, headers, self.settings.trusted_proxies)
        wait = await self.budget.take(state.client, door_fee(headers))
        if not wait:
            state.prepaid = 1
            return None
        state.retry_after = wait
        return await self.refusal(request, state)

    async def refusal(self, request: Request, state: RequestState) -> Response:
        """The 429 of a request whose client spent its budget (service.http.Door asks before the body is read)."""
        wait = state.retry_after
        # A client over budget waits for its refusal (a timer, no CPU): a flood from a few
        # connections becomes a trickle instead of thousands of refusals a second.
        if self.settings.rate_limit_delay > 0:
            await asyncio.sleep(min(wait, self.settings.rate_limit_delay))
        return self._finish(request, JSONResponse({"errors": [{
            "message": f"Rate limit: this client spent its {self.settings.rate_points} points for the minute; "
                       f"retry in {wait} s.",
            "extensions": {"code": "RATE_LIMITED", "retryAfter": wait}}]}), state)

    async def parse_http_body(self, request):
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if request.method == "POST":
            if content_type == "multipart/form-data":
                if not preflighted(request.headers):
                    # A cross-site HTML form can send multipart bodies; it cannot set these headers.
                    raise HTTPException(HTTPStatus.BAD_REQUEST, "Multipart requests need an Authorization or GraphQL-Require-Preflight header.")
            elif content_type != "application/json":
                raise HTTPException(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "POST a JSON body (Content-Type: application/json).")
        try:
            data = await super().parse_http_body(request)
            if request.method == "GET" and "documentId" in request.query_params:
                self._document_id(data, request.query_params["documentId"])
        except MultiPartException as error:
            # python-multipart refuses a part over its limit, or a malformed body: the client's fault.
            status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE if "exceeded maximum size" in str(error) else HTTPStatus.BAD_REQUEST
            raise HTTPException(status, f"The multipart request was refused: {error}") from None
        except StarletteHTTPException as error:
            raise HTTPException(error.status_code, str(error.detail)) from None
        except (AttributeError, TypeError, KeyError, ValueError):
            raise HTTPException(HTTPStatus.BAD_REQUEST, "The body must be a JSON object with `query` (string), `variables` and "
                                     "`extensions` (objects) and `operationName` (string).") from None
        for item in data if isinstance(data, list) else [data]:
            if not (isinstance(item.query, (str, type(None))) and isinstance(item.variables, (dict, type(None)))
                    and isinstance(item.extensions, (dict, type(None))) and isinstance(item.operation_name, (str, type(None)))):
                raise HTTPException(HTTPStatus.BAD_REQUEST, "Each operation is an object with `query` (string), `variables` and "
                                         "`extensions` (objects) and `operationName` (string).")
            await self._persisted(item)
            refused = refusal(item.variables, item.operation_name, self.settings)
            if refused is not None:
                raise HTTPException(*refused)
        return data

    @staticmethod
    def _document_id(item, document_id: str) -> None:
        """GraphQL over HTTP's persisted documents: `documentId=sha256:<hex>`, read as Apollo's extension."""
        digest = document_id.removeprefix("sha256:")
        if not (document_id.startswith("sha256:") and operations.is_hash(digest)):
            raise PersistedProblem("documentId must be sha256: followed by 64 lower-case hex digits.")
        if item.query is not None or (item.extensions or {}).get("persistedQuery") is not None:
            raise PersistedProblem("Send documentId alone: without a query or a persistedQuery extension.")
        item.extensions = {**(item.extensions or {}), "persistedQuery": {"version": 1, "sha256Hash": digest}}

    @property
    def _automatic(self) -> bool:
        """Whether clients may register documents (Apollo's automatic persisted queries)."""
        return self.settings.trusted_documents != "only" and self.settings.apq_max_documents > 0

    async def _persisted(self, item) -> None:
        """A request that sends an operation's hash (the persistedQuery extension), with its document or alone."""
        persisted = (item.extensions or {}).get("persistedQuery")
        if persisted is None:
            return
        if not isinstance(persisted, dict) or persisted.get("version", 1) != 1:
            raise PersistedProblem("extensions.persistedQuery must be an object with version 1 and sha256Hash.")
        digest = persisted.get("sha256Hash")
        if not operations.is_hash(digest):
            raise PersistedProblem("persistedQuery.sha256Hash must be 64 lower-case hex digits.")
        if item.query is None:
            # Where clients register documents, an unknown hash is asked again: another worker may just have stored it.
            item.query = await operations.lookup(digest, negative=not self._automatic)
            if item.query is None:
                raise UnknownOperation(digest)
        elif operations.sha256(item.query) != digest:
            raise PersistedProblem("persistedQuery.sha256Hash is not the SHA-256 of the query; nothing was stored.")
        elif self._automatic:
            item.register = digest  # stored once the guard has let it run (execute_single)

    async def _register(self, request, item, result: ExecutionResult) -> None:
        """Store the document a client sent with its hash, when it ran (a refused one is never stored)."""
        digest = getattr(item, "register", None)
        if digest is None or (result.errors and result.data is None and all(not e.path for e in result.errors)):
            return
        if await operations.remember(digest, item.query, self.settings.apq_max_documents):
            client = _state(request).client
            if client:
                await self.budget.charge(client, REGISTER_POINTS)

    def _validate_batch_request(self, request_data, protocol="http") -> None:
        if not all(isinstance(item, dict) for item in request_data):
            raise HTTPException(HTTPStatus.BAD_REQUEST, "A batch is a list of operation objects.")
        limit = self.settings.batch_max
        if limit <= 0:
            raise HTTPException(HTTPStatus.BAD_REQUEST, "Batching is not enabled: send one operation per request.")
        if len(request_data) > limit:
            raise HTTPException(HTTPStatus.BAD_REQUEST, f"A batch holds at most {limit} operations.")

    async def execute_single(self, request, request_adapter, sub_response, context, root_value, request_data):
        try:
            result = await within(
                super().execute_single(request, request_adapter, sub_response, context, root_value, request_data),
                self.settings.execution_timeout,
            )
            await self._register(request, request_data, result)
            return result
        except TimeoutError:
            _state(request).status = HTTPStatus.GATEWAY_TIMEOUT
            return ExecutionResult(data=None, errors=[GraphQLError(
                f"The request took longer than {self.settings.execution_timeout:g} s and was stopped.",
                extensions={"code": "TIMEOUT"},
            )])
        except HTTPException as error:
            if request_adapter.method == "GET" and "mutation" in str(error.reason).lower():
                _state(request).allow = "POST"
                raise HTTPException(HTTPStatus.METHOD_NOT_ALLOWED, "Mutations need POST.") from None
            raise

    def should_render_graphql_ide(self, request) -> bool:
        # Only a bare GET gets GraphiQL: one that carries an operation gets its answer, whatever it accepts.
        params = request.query_params
        if any(params.get(name) is not None for name in ("query", "extensions", "documentId")):
            return False
        return super().should_render_graphql_ide(request)

    async def get_context(self, request, response) -> Context:
        context = Context(request=request, response=response, settings=self.settings, budget=self.budget)
        caching.attach(request, context.surrogate)
        return context

    async def on_ws_connect(self, context: Context):
        if context.bearer() is not None and await context.token() is None:
            raise ConnectionRejectionError()  # closed with 4403
        return await super().on_ws_connect(context)

    # -- response -----------------------------------------------------------------

    async def execute_operation(self, request, request_adapter, request_data, context, root_value, sub_response):
        if isinstance(request_data, list):
            _state(request).batch = True
        return await super().execute_operation(request, request_adapter, request_data, context, root_value, sub_response)

    async def process_result(self, request, result: ExecutionResult):
        state = _state(request)
        errors = result.errors or []
        not_executed = bool(errors) and result.data is None and all(not error.path for error in errors)
        if not_executed:
            state.not_executed = True  # syntax, validation, limits, variables: a 400 in graphql-response+json
        for error in errors:
            code = (error.extensions or {}).get("code")
            if code == "RATE_LIMITED":
                state.retry_after = error.extensions.get("retryAfter", 60)
        response = await super().process_result(request, result)
        if not_executed and GRAPHQL_RESPONSE in request.headers.get("accept", ""):
            response.pop("data", None)  # GraphQL over HTTP: a request that never executed has no data entry
        if errors:
            surrogate = caching.of(request)
            if surrogate is not None:
                surrogate.private()  # an answer with errors is never shared
            response["errors"] = [self.shown(error, state) for error in errors]
            log_coded(state.request_id, (shown["extensions"].get("code", "BAD_USER_INPUT") for shown in response["errors"]))
        return response

    def shown(self, error: GraphQLError, state: RequestState) -> dict:
        """An error as the client sees it: coded, unexpected ones logged and (in production) masked."""
        request_id = state.request_id
        formatted = error.formatted
        extensions = dict(formatted.get("extensions") or {})
        original = error.original_error
        if isinstance(original, StatementTimeout) or type(original).__name__ == "QueryCanceledError" or (
            original is not None and "statement timeout" in str(original)
        ):
            extensions["code"] = "TIMEOUT"
            formatted["message"] = "A database statement took too long and was stopped."
        if original is not None and database_unavailable(original):
            extensions["code"] = "DATABASE_UNAVAILABLE"
            formatted["message"] = UNAVAILABLE_MESSAGE
            state.status, state.unavailable = HTTPStatus.SERVICE_UNAVAILABLE, True
        if "code" not in extensions and not error.path and (original is None or error.message.startswith("Variable '$")):
            extensions["code"] = "BAD_USER_INPUT"  # variable values the operation's types refuse
        if not ("code" in extensions or deliberate(error)):
            log.error("unexpected error [%s] at %s", request_id, error.path, exc_info=original)
            extensions.update(code="INTERNAL_SERVER_ERROR", requestId=request_id)
            if self.settings.production:
                formatted = {"message": "Unexpected error.", "locations": formatted.get("locations"), "path": formatted.get("path")}
                formatted = {k: v for k, v in formatted.items() if v is not None}
        if self.settings.production:
            formatted["message"] = _SUGGESTION.sub("", formatted["message"])
        formatted["extensions"] = extensions
        return formatted

    def _finish(self, request: Request, response: Response, state: RequestState) -> Response:
        response.headers["X-Request-Id"] = state.request_id
        caching.private(response)  # until caching.offer finds it may be shared
        if state.batch:  # items fare differently: each carries its own errors, the batch is 200
            state.retry_after, state.not_executed = None, False
        if state.retry_after is not None:
            response.status_code = HTTPStatus.TOO_MANY_REQUESTS
            response.headers["Retry-After"] = str(state.retry_after)
        elif state.status is not None:
            response.status_code = state.status
            if state.unavailable:
                response.headers["Retry-After"] = "1"
        if state.allow is not None:
            response.headers["Allow"] = state.allow
        accept = request.headers.get("accept", "")
        if GRAPHQL_RESPONSE in accept and response.headers.get("content-type", "").startswith("application/json"):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            if state.not_executed and response.status_code == HTTPStatus.OK:
                response.status_code = HTTPStatus.BAD_REQUEST
        return response

    def parse_json(self, data: str | bytes):
        # orjson refuses nesting past 1,024 levels with a decode error (a 400); the
        # standard library's decoder recursed into a RecursionError (a 500).
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise HTTPException(HTTPStatus.BAD_REQUEST, f"Unable to parse request body as JSON: {error}") from None

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()

    async def render_graphql_ide(self, request: Request) -> Response:
        # The example tabs carry this site's values and a fresh comment form token: never cached.
        return HTMLResponse(await graphiql.page(self._ide_html, self.settings),
                            headers={"Content-Security-Policy": GRAPHIQL_CSP, "Cache-Control": "no-store"})
