"""Signals between processes over PostgreSQL's LISTEN/NOTIFY.

Each process keeps one connection that listens on a channel. Signals raised here are batched
(every signal raised while the previous batch was being sent goes out in the next one, in
one statement) and each carries the sender's id so a process ignores its own. A signal is
sent after the change it announces has committed, so a receiver that reads the store sees
it. Losing a signal (a crash between commit and send, a dropped connection) only delays a
waiter until its next look at the store; after a reconnection every waiter looks at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import asyncpg
import structlog
from sqlalchemy.engine import make_url

from actionruns.engine.events import RunEvents

log = structlog.get_logger(__name__)

CHANNEL = "actionruns_events"
RECONNECT_MAX_SECONDS = 5.0
_SEND = "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload"


def asyncpg_dsn(url: str) -> str:
    """The libpq-style address asyncpg wants, from the SQLAlchemy URL the store uses."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresBus:
    def __init__(self, url: str, events: RunEvents) -> None:
        self.dsn = asyncpg_dsn(url)
        self.events = events
        self.origin = uuid.uuid4().hex[:12]
        self._outbox: dict[str, None] = {}  # ordered and without duplicates
        self._pending = asyncio.Event()
        self._connected = asyncio.Event()
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect and listen; returns once listening, so no signal after this is missed."""
        self.events.publish = self.publish
        self._task = asyncio.create_task(self._run(), name="postgres-bus")
        async with asyncio.timeout(30):
            await self._connected.wait()

    def publish(self, kind: str, run_id: str) -> None:
        self._outbox[f"{self.origin}|{kind}|{run_id}"] = None
        self._pending.set()

    def _received(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        origin, _, rest = payload.partition("|")
        if origin == self.origin:
            return
        kind, _, run_id = rest.partition("|")
        self.events.receive(kind, run_id)

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                connection = await asyncpg.connect(self.dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("bus_connect_failed", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
                continue
            delay = 0.1
            try:
                await connection.add_listener(CHANNEL, self._received)
                self._connection = connection
                self._connected.set()
                self.events.recheck_everything()
                await self._send_forever(connection)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("bus_connection_lost", error=str(exc))
            finally:
                self._connection = None
                with contextlib.suppress(Exception):
                    await connection.close(timeout=1)

    async def _send_forever(self, connection: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        while True:
            pending = asyncio.ensure_future(self._pending.wait())
            closed = asyncio.ensure_future(lost.wait())
            await asyncio.wait((pending, closed), return_when=asyncio.FIRST_COMPLETED)
            pending.cancel()
            closed.cancel()
            if lost.is_set() or connection.is_closed():
                raise asyncpg.InterfaceError("the listening connection was closed")
            self._pending.clear()
            batch = list(self._outbox)
            self._outbox.clear()
            await connection.execute(_SEND, CHANNEL, batch)

    async def close(self) -> None:
        self.events.publish = None
        if self._task is not None:
            # Signals already raised go out before the connection closes.
            if self._outbox and self._connection is not None:
                with contextlib.suppress(Exception):
                    await self._connection.execute(_SEND, CHANNEL, list(self._outbox))
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
