"""PostgreSQL LISTEN on the appended channel: hears every committed append in every
process (store.append NOTIFYs it with the batch's newest position). One dedicated
connection per worker, reconnected when it drops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from store.db import APPENDED_CHANNEL, Store

log = logging.getLogger("coursegraph.listen")

RECONNECT_SECONDS = 1.0
# A connection can die without a termination callback (a half-open socket): look again
# this often.
LIVENESS_SECONDS = 5.0


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL as asyncpg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class AppendListener:
    """Calls `on_appended(position)` for each append NOTIFYed by any process, and
    `on_appended(None)` after each (re)connect, when notifications may have been missed."""

    def __init__(self, store: Store, on_appended: Callable[[int | None], None]) -> None:
        self._dsn = asyncpg_dsn(store.url)
        self._on_appended = on_appended
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    @property
    def backend_pid(self) -> int | None:
        """The listening connection's server process (tests end it to force a reconnect)."""
        return self._connection.get_server_pid() if self.connected else None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever(), name="coursegraph-listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close(timeout=2)
            self._connection = None

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            position = int(payload)
        except ValueError:
            position = None
        self._on_appended(position)

    async def _listen_forever(self) -> None:
        while True:
            lost = asyncio.Event()
            try:
                self._connection = await asyncpg.connect(self._dsn)
                self._connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await self._connection.add_listener(APPENDED_CHANNEL, self._heard)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("LISTEN %s failed (%s); retrying", APPENDED_CHANNEL, error)
                await self._drop()
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            self._on_appended(None)  # catch up on whatever came while not listening
            while not self._connection.is_closed():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(LIVENESS_SECONDS):  # see app.api.live
                        await lost.wait()
            log.warning("LISTEN connection lost; reconnecting")
            await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.terminate()
