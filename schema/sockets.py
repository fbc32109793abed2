"""GraphQL over a WebSocket (graphql-transport-ws) under the rules of GraphQL over HTTP.

- Each `subscribe` message is one request: a fresh Context (new loaders, the
  token authenticated again), the checks of schema.requests.refusal
  (variables size and depth, NUL characters), the Guard's limits, cost budget
  and rate limit (keyed by token or client address), and execution_timeout.
  A subscription's deadline covers its setup and the resolving of each event,
  not the waiting between events.
- A socket that presents a token (handshake `Authorization` header or
  `connection_init` payload `{"Authorization": "Bearer ..."}`) keeps it only
  while it is live: an unknown, revoked or expired token closes the socket
  with 4403 at connection_init, at the next operation, and within
  ws_token_recheck seconds while subscriptions run (or at its expiry).
- Messages larger than max_body_bytes close the socket with 1009, JSON nested
  past 1,024 levels or malformed messages with 4400; no message reaches the
  standard library's recursive JSON decoder.
- Errors are shown as over HTTP: coded, unexpected ones logged and masked in
  production.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from collections.abc import AsyncGenerator
from contextlib import suppress

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.types.execution import ExecutionResult, PreExecutionError

from schema.guard import client_key
from schema.requests import refusal
from service import auth
from service.http import BODY_POINT_BYTES, RequestState
from service.clock import now

log = logging.getLogger("masthead.graphql")

FORBIDDEN = 4403
MESSAGE_TOO_BIG = 1009
# The Context of the operation a task runs: each operation's task sets its own.
_operation_context: contextvars.ContextVar = contextvars.ContextVar("masthead_operation_context")


class SocketAdapter(ASGIWebSocketAdapter):
    """Reads text messages up to the body size limit and decodes them with orjson (depth-limited)."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        limit = self.view.settings.max_body_bytes
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                if len(text) > limit or len(text.encode()) > limit:
                    await self.close(MESSAGE_TOO_BIG, f"Messages are limited to {limit} bytes.")
                    return
                try:
                    yield orjson.loads(text)
                except orjson.JSONDecodeError as error:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from error
        except KeyError as error:
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass


def _refused(message: str, code: str = "BAD_USER_INPUT") -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


class SocketHandler(BaseGraphQLTransportWSHandler):
    """strawberry's graphql-transport-ws handler with a Context, checks and a deadline per operation."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.socket_id = uuid.uuid4().hex[:12]
        self.watchdog: asyncio.Task | None = None

    # The connection's Context holds the socket and its connection_init payload; an
    # operation's task reads its own (strawberry's run_operation reads self.context).
    @property
    def context(self):
        return _operation_context.get(self._connection_context)

    @context.setter
    def context(self, value) -> None:
        self._connection_context = value

    @property
    def settings(self):
        return self.view.settings

    async def handle_message(self, message) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str) or (
            message["type"] in ("subscribe", "complete") and not isinstance(message.get("id"), str)
        ):
            await self.handle_invalid_message("A message is an object with a string `type` (and a string `id`).")
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._connection_context.bearer() is not None:
            self.watchdog = asyncio.create_task(self._watch_token())
            self.watchdog.add_done_callback(self._task_done)

    async def handle_subscribe(self, message) -> None:
        operation_id, payload = message["id"], message.get("payload")
        if not self.connection_acknowledged or operation_id in self.operations:
            await super().handle_subscribe(message)  # closes the socket (4401, 4409)
            return
        if not (0 < len(operation_id) <= 128 and isinstance(payload, dict)
                and isinstance(payload.get("query"), str) and isinstance(payload.get("variables"), (dict, type(None)))
                and isinstance(payload.get("operationName"), (str, type(None)))
                and isinstance(payload.get("extensions"), (dict, type(None)))):
            await self.handle_invalid_message("A subscribe message has an `id` (string) and a `payload` with "
                                              "`query` (string), `variables` and `extensions` (objects) and "
                                              "`operationName` (string).")
            return
        refused = refusal(payload.get("variables"), payload.get("operationName"), self.settings)
        if refused is not None:
            await self.send_message({"id": operation_id, "type": "error",
                                     "payload": [_refused(refused[1]).formatted]})
            return
        await super().handle_subscribe(message)

    async def run_operation(self, operation) -> None:
        request_id = f"{self.socket_id}:{operation.id}"[:64]
        try:
            async with asyncio.timeout(self.settings.execution_timeout) as deadline:
                context = await self.view.get_context(self.websocket.ws, self.websocket.ws)
                context.connection_params = self._connection_context.connection_params
                context.deadline = deadline
                context.request_id = request_id
                if not await self._door(operation, context):  # as over HTTP: the address pays before a token lookup
                    return
                if context.bearer() is not None and await context.token() is None:
                    self.operations.pop(operation.id, None)
                    await self._forbid()
                    return
                _operation_context.set(context)
                await super().run_operation(operation)
        except TimeoutError:
            if not operation.completed:
                operation.completed = True
                self.operations.pop(operation.id, None)
                error = _refused(f"The operation took longer than {self.settings.execution_timeout:g} s and was stopped.",
                                 "TIMEOUT")
                with suppress(WebSocketDisconnected, RuntimeError):
                    await self.send_message({"id": operation.id, "type": "error", "payload": [error.formatted]})

    async def _door(self, operation, context) -> bool:
        """HTTP's door (schema.http) for one operation: a point from the address, and its
        size's, before the document is read; refused with RATE_LIMITED when none is left."""
        budget = getattr(self.view, "budget", None)
        if budget is None:
            return True
        size = len(operation.query) + len(orjson.dumps(operation.variables or {}, default=str))
        wait = await budget.take(client_key(self.websocket.ws, self.settings), 1 + size // BODY_POINT_BYTES)
        if not wait:
            context.prepaid = 1  # the guard takes the operation's points less this one
            return True
        error = GraphQLError(
            f"Rate limit: this client spent its {self.settings.rate_points} points for the minute; retry in {wait} s.",
            extensions={"code": "RATE_LIMITED", "retryAfter": wait})
        await operation.send_operation_message({"id": operation.id, "type": "error", "payload": [error.formatted]})
        return False

    async def _send_result_stream(self, operation, result_source) -> None:
        try:
            await self._send_results(operation, result_source)
        except GraphQLError as error:
            # The Guard refuses documents in on_parse (size, tokens, NUL, trusted documents); strawberry's
            # stream lets an error raised there escape where its execute returns it as a result.
            await operation.send_operation_message({"id": operation.id, "type": "error",
                                                    "payload": self._shown(operation, [error])})

    async def _send_results(self, operation, result_source) -> None:
        first = True
        async for result in result_source:
            if first and isinstance(result, PreExecutionError):
                await self._handle_pre_execution_error(operation, result)
                return
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return
            payload: dict = {"data": result.data}
            if result.errors:
                payload["errors"] = self._shown(operation, result.errors)
            if result.extensions:
                payload["extensions"] = result.extensions
            await operation.send_operation_message({"id": operation.id, "type": "next", "payload": payload})
            first = False

    async def _handle_pre_execution_error(self, operation, result) -> None:
        if self._get_pre_execution_close_reason(result.errors[0]) is not None:
            await super()._handle_pre_execution_error(operation, result)
            return
        await operation.send_operation_message({"id": operation.id, "type": "error",
                                                "payload": self._shown(operation, result.errors)})

    def _shown(self, operation, errors: list[GraphQLError]) -> list[dict]:
        state = RequestState(request_id=getattr(self.context, "request_id", self.socket_id))
        return [self.view.shown(error, state) for error in errors]

    async def _forbid(self) -> None:
        with suppress(WebSocketDisconnected, RuntimeError):
            await self.websocket.close(code=FORBIDDEN, reason="Forbidden: the token is unknown, revoked or expired.")

    async def _watch_token(self) -> None:
        """Close the socket once its token stops being live: checked every ws_token_recheck s and at expiry."""
        raw = self._connection_context.bearer()
        token = await self._connection_context.token()  # checked moments ago, at connection_init
        while token is not None:
            wait = self.settings.ws_token_recheck
            if token.expires_at is not None:
                wait = min(wait, max(0.0, (token.expires_at - now()).total_seconds()) + 0.01)
            await asyncio.sleep(wait)
            token = await auth.authenticate(raw)
        await self._forbid()

    async def shutdown(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self.watchdog
        await super().shutdown()
