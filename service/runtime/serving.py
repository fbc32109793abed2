"""uvicorn's HTTP protocol with a shutdown that answers, rather than resets, kept-alive clients.

On SIGTERM uvicorn closes every idle keep-alive connection at once. A client
that had just sent its next request on one gets no answer (the close with
unread data is a TCP reset), and a response that started before the signal
went out without `Connection: close`, so its client sends another request into
the close. Here a draining connection instead answers whatever arrives within a
short grace with `Connection: close` (the lifespan is still up: it is served
normally), then closes; an idle one closes after the grace.

Relies on: uvicorn's `HttpToolsProtocol` (selected by `http=` in uvicorn.run,
service/cli.py) calling `shutdown()` on SIGTERM, and its internals `cycle`
(`response_started`, `response_complete`, `keep_alive`), `pipeline`, `transport`,
`loop`, `timeout_keep_alive`, `timeout_keep_alive_task`,
`timeout_keep_alive_handler`, `_unset_keepalive_if_required`,
`on_headers_complete` and `on_response_complete`. Worth it: a rolling restart
drops no request (tests/test_faults.py sends SIGTERM to a server with kept-alive
clients). If one is renamed, shutdown raises or kept-alive clients get resets
again; tests/test_runtime_assumptions.py names the attribute that went.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

SHUTDOWN_GRACE = 1.0  # seconds an idle kept-alive connection may still bring one request


class GracefulHttpToolsProtocol(HttpToolsProtocol):
    draining = False

    def shutdown(self) -> None:
        self.draining = True
        if self.cycle is not None and not self.cycle.response_complete:
            if not self.cycle.response_started:
                self.cycle.keep_alive = False  # its response says `Connection: close`, then the connection closes
            return  # a response already under way said keep-alive: on_response_complete gives the grace
        self._close_after_grace()

    def _close_after_grace(self) -> None:
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()  # data_received cancels this timer when a request comes
        self.timeout_keep_alive_task = self.loop.call_later(
            min(SHUTDOWN_GRACE, self.timeout_keep_alive), self.timeout_keep_alive_handler
        )

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.draining and self.cycle is not None:
            self.cycle.keep_alive = False

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.draining and not self.pipeline:
            self._close_after_grace()
