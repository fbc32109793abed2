"""Tortoise's asyncpg client, made safe to use while PostgreSQL restarts.

When PostgreSQL shuts down (fast mode, `pg_terminate_backend`, an idle session
timeout) each backend sends a FATAL ErrorResponse and then closes its socket. An
idle pooled connection that reads the error before the close has no operation to
give it to: asyncpg parks its protocol in the error-consuming state and the
connection still looks open, so the pool hands it to the next request, whose
first statement fails with "cannot switch to state N; another operation (2) is
in progress" (an InternalClientError, which read as a bug: a 500). It is not two
requests sharing a connection; it is a connection the server already closed.

The error is raised before anything is written, so the operation is retried
once on another connection (a fresh one, or a refused connect: a coded 503);
inside a transaction it is reported as the lost connection it is. A transaction
whose BEGIN fails gives its connection back and leaves the task's context clean
(tortoise's pooled transaction context did neither: __aexit__ never runs then).

Engine "service.runtime.pgclient" in the tortoise config (service/db.py) selects it.

Relies on: tortoise loading an engine module's `client_class`; the hooks of
tortoise's `AsyncpgDBClient` and `TransactionWrapper` (`_translate_exceptions`,
`acquire_connection`, `_in_transaction`, `_pool`, `_pool_init_lock`), of
`PoolConnectionWrapper` (`client`, `connection`), of `TransactionContextPooled`
(`ensure_connection`, `connection_name`, `token`, `client._parent._pool`,
`client._connection`, `client._finalized`) and `NestedTransactionContext`; and
the text of asyncpg's InternalClientError ("cannot switch to state"). Worth it:
a PostgreSQL restart costs a retried statement instead of a burst of 500s
(tests/test_faults.py restarts it under load). If a hook is renamed, the
override is silently never called and those 500s come back; if the error text
changes, stale connections are no longer recognised.
tests/test_runtime_assumptions.py checks the hooks and names the one that went.
"""

from __future__ import annotations

from asyncpg.exceptions import InternalClientError
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import NestedTransactionContext, PoolConnectionWrapper, TransactionContextPooled
from tortoise.connection import get_connections
from tortoise.exceptions import DBConnectionError, TransactionManagementError


class ServerClosedConnection(DBConnectionError):
    """A pooled connection the server had already closed (a restart or a terminated backend)."""


def _stale(error: BaseException) -> bool:
    """asyncpg's protocol was not idle when an operation began: the server spoke out of turn (closing)."""
    return isinstance(error, InternalClientError) and str(error).startswith("cannot switch to state")


async def _translated(awaitable):
    try:
        return await awaitable
    except InternalClientError as error:
        if not _stale(error):
            raise
        raise ServerClosedConnection(f"The database closed the connection: {error}") from error


class _Retrying:
    async def _translate_exceptions(self, func, *args, **kwargs):
        retry = not isinstance(self, TransactionWrapper)  # a transaction's statements cannot move to another connection
        while True:
            try:
                return await super()._translate_exceptions(func, *args, **kwargs)
            except InternalClientError as error:
                if not _stale(error):
                    raise
                if not retry:
                    raise ServerClosedConnection(f"The database closed the connection: {error}") from error
                retry = False  # the pool terminated that connection on release; the next is fresh or refused


async def _release(pool, connection) -> None:
    """Give a connection back; one that fails its reset is terminated by the pool, which is all that matters.

    The statements already succeeded (or already failed with their own error): a
    reset failing because the server closed the connection afterwards must not
    turn a committed write into an error, or a retried one into a duplicate.
    """
    try:
        await pool.release(connection)
    except Exception:  # noqa: BLE001 - asyncpg terminated the connection before raising
        pass


class _Acquired(PoolConnectionWrapper):
    async def __aexit__(self, exc_type, exc_val, exc_tb) -> None:
        await _release(self.client._pool, self.connection)


class _Transaction(TransactionContextPooled):
    async def __aenter__(self):
        for attempt in (1, 2):
            await self.ensure_connection()
            pool = self.client._parent._pool
            self.client._connection = await pool.acquire()
            self.token = get_connections().set(self.connection_name, self.client)
            try:
                await self.client.begin()
                return self.client
            except BaseException as error:
                get_connections().reset(self.token)
                await _release(pool, self.client._connection)
                if attempt == 2 or not isinstance(error, ServerClosedConnection):
                    raise

    async def __aexit__(self, exc_type, exc_val, exc_tb) -> None:
        try:
            if not self.client._finalized:
                if exc_type is None:
                    await self.client.commit()
                elif exc_type is not TransactionManagementError:
                    await self.client.rollback()
        finally:
            get_connections().reset(self.token)
            if self.client._parent._pool:
                await _release(self.client._parent._pool, self.client._connection)


class MastheadTransactionWrapper(_Retrying, TransactionWrapper):
    # COMMIT and ROLLBACK bypass tortoise's exception translation: the same lost connection there.
    async def commit(self) -> None:
        await _translated(super().commit())

    async def rollback(self) -> None:
        await _translated(super().rollback())

    def _in_transaction(self):
        return NestedTransactionContext(MastheadTransactionWrapper(self))


class MastheadAsyncpgClient(_Retrying, AsyncpgDBClient):
    def acquire_connection(self):
        return _Acquired(self, self._pool_init_lock)

    def _in_transaction(self):
        return _Transaction(MastheadTransactionWrapper(self), self._pool_init_lock)


client_class = MastheadAsyncpgClient
