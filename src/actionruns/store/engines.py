"""How the store's SQL reaches the database, per backend.

The store's SQL is written once, as synchronous SQLAlchemy Core functions of a connection.
Two runners execute them:

- SQLite: reads run inline, outside a transaction (a read in WAL mode never waits for a lock
  and takes tens of microseconds, far less than a hop to another thread). Writes go to one
  writer thread that commits concurrent callers together (group commit) inside
  ``BEGIN IMMEDIATE``, except a run's own writes in a quiet moment (one run in flight),
  which commit inline unless another connection holds the lock. A third thread copies the
  write-ahead log into the database.
- Anything else (PostgreSQL): the async engine, each function through ``run_sync``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import sqlalchemy
import sqlalchemy.ext.asyncio
import structlog
from sqlalchemy import Connection, event, exc
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase

log = structlog.get_logger(__name__)

T = TypeVar("T")
Work = Callable[[Connection], Any]

MAX_BATCH = 256
# How often the SQLite runner copies the write-ahead log into the database.
CHECKPOINT_SECONDS = 0.1
DEFAULT_POOL_SIZE = 10


class Runner(Protocol):
    dialect: str

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` outside a transaction: each statement sees what was committed when
        it began, so a read of several statements may see commits between them."""
        ...

    async def read_first(
        self, query: Select[Any], parameters: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        """The first row of a hot query (a run by id), by column name, or None."""
        ...

    async def write(self, work: Callable[[Connection], T], *, quiet: bool = False) -> T:
        """Run ``work`` in a transaction. ``quiet``: a write of a few rows, by a caller
        that knows little else is being written now (one run in flight); SQLite then
        commits it on the caller's thread."""
        ...

    async def write_one(self, work: Callable[[Connection], T], *, quiet: bool = False) -> T:
        """Like ``write``, for work that is a single statement (atomic by itself): where
        the engine allows, it runs without a transaction around it."""
        ...

    def execute(
        self, conn: Connection, statement: UpdateBase, parameters: Mapping[str, Any]
    ) -> int:
        """Inside ``work``: run an INSERT, UPDATE or DELETE made on every run; returns the
        number of rows it changed."""
        ...

    async def erase_history(self) -> None:
        """Drop earlier versions of rows the engine keeps beside the live ones."""
        ...

    async def close(self) -> None: ...


# SQLSTATEs of a server that is away: connection exceptions (class 08), shutting down or
# starting up (57P01-57P03), out of connections (53300).
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached now (down, restarting, busy),
    as opposed to a statement that is wrong."""
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_STATES):
            return True
        cause = error.orig.__cause__ if error.orig is not None else None
        if isinstance(error.orig, OSError) or isinstance(cause, OSError):
            return True
    return isinstance(
        error, exc.OperationalError | exc.InterfaceError | exc.TimeoutError | ConnectionError
    )


def runner_for(url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> Runner:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SQLiteRunner(parsed.set(drivername="sqlite").render_as_string(hide_password=False))
    if parsed.get_backend_name() == "postgresql":
        # Operators write postgresql://…; the store speaks to it through asyncpg.
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return AsyncRunner(parsed.render_as_string(hide_password=False), pool_size=pool_size)


def _sqlite_engine(url: str, *, writer: bool, wait: bool = True) -> Engine:
    # Looked up when called, here and for asyncpg: tracing (actionruns.telemetry) replaces
    # them with functions that trace each engine they make.
    engine = sqlalchemy.create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=4, max_overflow=4
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions by itself; we say BEGIN where we mean it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL: readers never block the writer. synchronous=NORMAL in WAL mode survives any
        # process crash; only a power loss can take back the last commits.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # A connection that must not wait (the event loop's writes) is told at once that
        # another one writes, and hands its work to the writer thread, which waits.
        cursor.execute(f"PRAGMA busy_timeout={30000 if wait else 0}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows (erased credentials, purged runs) are overwritten, not left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    if writer:

        @event.listens_for(engine, "connect")
        def _checkpoint_on_commit_only_as_backstop(dbapi_connection: Any, _record: Any) -> None:
            # The commit that grows the log past 1000 pages (the default) copies them into
            # the database and fsyncs, holding up every write queued behind it (a run's p99
            # latency went from ~8 to ~10 ms): the runner's checkpoint thread does that.
            # Under writes without a pause it may not catch up (the log starts over only
            # once it has), so a commit still checkpoints past 16 MB.
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=4000")

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            # A writer takes the lock up front: a read-then-write transaction could otherwise
            # fail at once with SQLITE_BUSY when another process wrote in between.
            # Straight to the driver: through SQLAlchemy's execution path, this one statement
            # cost a fifth of the writer thread's time.
            driver = connection.connection.driver_connection
            assert driver is not None  # a checked-out connection has its driver's
            driver.execute("BEGIN IMMEDIATE")

    # A reader opens no transaction: each statement reads its own snapshot, as reads do on
    # PostgreSQL, and a BEGIN and ROLLBACK around every read cost as much as the read.
    return engine


def _usable(held: Connection | None, engine: Engine) -> Connection:
    """``held``, or a new connection if there is none or it broke."""
    if held is not None and not held.closed and not held.invalidated:
        return held
    if held is not None:
        held.close()
    return engine.connect()


@dataclass(frozen=True)
class _DriverStatement:
    """A statement compiled once, with what turns its parameters into the driver's."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    constants: dict[str, Any]
    # A query's columns, in the order of its rows, with what turns the driver's values into
    # SQLAlchemy's (JSON text into objects, integers into booleans).
    columns: tuple[str, ...] = ()
    readers: tuple[Callable[[Any], Any] | None, ...] = ()

    def driver_parameters(self, parameters: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, process in zip(self.names, self.processors, strict=True):
            value = parameters[name] if name in parameters else self.constants[name]
            values.append(value if process is None else process(value))
        return values


@functools.lru_cache(maxsize=128)  # a few hot statements, each with one set of keys
def _compiled_for_driver(
    statement: UpdateBase | Select[Any], keys: frozenset[str], dialect: Dialect
) -> _DriverStatement:
    compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
    if compiled.insert_prefetch or compiled.update_prefetch:
        # Column defaults computed in Python are filled in by SQLAlchemy's execution path.
        raise ValueError(f"Pass every column to run on the driver: {compiled.string}")
    names = tuple(compiled.positiontup or ())
    selected: list[Any] = list(statement.selected_columns) if isinstance(statement, Select) else []
    return _DriverStatement(
        sql=compiled.string,
        names=names,
        processors=tuple(compiled.binds[name].type.bind_processor(dialect) for name in names),
        # Values the statement carries itself (status == 'running'); a parameter it requires
        # and was not given fails, as SQLAlchemy's path would, rather than becoming NULL.
        constants={
            name: bind.value
            for name, bind in compiled.binds.items()
            if name not in keys and not bind.required
        },
        columns=tuple(column.key for column in selected),
        readers=tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected
        ),
    )


def _first_row(
    query: Select[Any], parameters: Mapping[str, Any], conn: Connection
) -> Mapping[str, Any] | None:
    """``read_first`` through SQLAlchemy's execution path."""
    row = conn.execute(query, parameters).mappings().first()
    return dict(row) if row is not None else None


def _watched(conn: Connection) -> bool:
    """Whether something follows each statement (tracing): the driver's shortcut would hide
    them from it, so they take SQLAlchemy's own path."""
    return bool(conn.dispatch.before_cursor_execute)


class _WouldWait(Exception):
    """Another connection holds SQLite's write lock."""


def _settle(settled: list[tuple[asyncio.Future[Any], tuple[bool, Any]]]) -> None:
    for future, (ok, value) in settled:
        if future.done():  # its caller was cancelled
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


PRIVATE_FILE_MODE = 0o600


def _private_files(database: Path) -> None:
    """The database file is made (or made again) readable by its owner only before SQLite
    opens it: SQLite gives the write-ahead log and shared-memory files it creates the
    database file's mode, so they are private too."""
    descriptor = os.open(database, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    os.close(descriptor)
    for path in (database, *(database.with_name(database.name + end) for end in ("-wal", "-shm"))):
        if path.exists():
            path.chmod(PRIVATE_FILE_MODE)


class SQLiteRunner:
    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        self.url = url
        database = make_url(url).database
        if database and database != ":memory:":
            _private_files(Path(database))
        self._reader = _sqlite_engine(url, writer=False)
        self._writer = _sqlite_engine(url, writer=True)
        self._inline_writer = _sqlite_engine(url, writer=True, wait=False)
        # Writes waiting for the writer thread; None tells it to stop.
        self._queue: queue.SimpleQueue[tuple[Work, asyncio.Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._checkpoints: threading.Thread | None = None
        self._stopping = threading.Event()
        # Writes handed to the writer thread and not settled yet: while there are any, a
        # quiet write queues behind them (it must not overtake them, nor wait for the lock
        # they hold).
        self._unsettled: set[asyncio.Future[Any]] = set()
        # One connection each for the event loop's reads and the writer thread's commits: a
        # pool checkout and return per call cost as much as a short statement.
        self._reading: Connection | None = None
        self._writing: Connection | None = None
        self._writing_inline: Connection | None = None

    @property
    def sync_engine(self) -> Engine:
        return self._writer

    async def read(self, work: Callable[[Connection], T]) -> T:
        self._reading = conn = _usable(self._reading, self._reader)
        try:
            return work(conn)
        finally:
            conn.rollback()  # ends SQLAlchemy's bookkeeping; SQLite was sent no BEGIN

    async def read_first(
        self, query: Select[Any], parameters: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        # Straight to the driver, as ``execute`` does for writes: a run read by id took
        # ~0.1 ms through SQLAlchemy's execution and result objects, ~0.035 ms this way.
        self._reading = conn = _usable(self._reading, self._reader)
        if _watched(conn):
            return await self.read(functools.partial(_first_row, query, parameters))
        compiled = _compiled_for_driver(query, frozenset(parameters), conn.dialect)
        row = self._on_driver(conn, compiled, parameters).fetchone()
        if row is None:
            return None
        return {
            name: value if read is None else read(value)
            for name, read, value in zip(compiled.columns, compiled.readers, row, strict=True)
        }

    async def write(self, work: Callable[[Connection], T], *, quiet: bool = False) -> T:
        if quiet and not self._unsettled:
            # Committed here: the hop to the writer thread and back (~0.15 ms) costs several
            # times the write itself (~0.02 ms for a run inserted; WAL with synchronous=NORMAL
            # does not sync on commit). Under load the thread is cheaper: it commits many
            # writes at once, on the other core (inline, runs/s fell to 0.84-0.89x).
            try:
                return self._commit_here(work)
            except _WouldWait:
                pass
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._unsettled.add(future)
        future.add_done_callback(self._unsettled.discard)
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._write_forever, name="sqlite-writer", daemon=True
            )
            self._checkpoints = threading.Thread(
                target=self._checkpoint_forever, name="sqlite-checkpoints", daemon=True
            )
            self._thread.start()
            self._checkpoints.start()
        # Run in the writer thread under the caller's context: what it logs or traces (SQL
        # spans) is the caller's request's or attempt's.
        context = contextvars.copy_context()
        self._queue.put((lambda conn: context.run(work, conn), future))
        return await future

    async def write_one(self, work: Callable[[Connection], T], *, quiet: bool = False) -> T:
        return await self.write(work, quiet=quiet)

    def _commit_here(self, work: Callable[[Connection], T]) -> T:
        """``work`` committed on this thread, or ``_WouldWait`` (nothing done) if another
        connection holds the write lock."""
        self._writing_inline = conn = _usable(self._writing_inline, self._inline_writer)
        try:
            transaction = conn.begin()
        except sqlite3.OperationalError as error:  # _on_begin's BEGIN IMMEDIATE, unwrapped
            # Nothing begun: the connection is as it was, free for the next write.
            if error.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise _WouldWait from error
            raise
        with transaction:
            return work(conn)

    def execute(
        self, conn: Connection, statement: UpdateBase, parameters: Mapping[str, Any]
    ) -> int:
        # Straight to the driver, with the statement compiled once by SQLAlchemy and its
        # values converted by the same type processors: SQLAlchemy's execution path cost
        # twice what SQLite took to write the run (insert and finish each ~0.2 ms of a
        # run's latency). Errors still come out as SQLAlchemy's.
        if _watched(conn):
            return int(conn.execute(statement, parameters).rowcount)
        compiled = _compiled_for_driver(statement, frozenset(parameters), conn.dialect)
        return int(self._on_driver(conn, compiled, parameters).rowcount)

    @staticmethod
    def _on_driver(
        conn: Connection, compiled: _DriverStatement, parameters: Mapping[str, Any]
    ) -> Any:
        """The driver's cursor for ``compiled`` run with ``parameters``; its errors come
        out as SQLAlchemy's."""
        values = compiled.driver_parameters(parameters)
        driver = conn.connection.driver_connection
        assert driver is not None  # a checked-out connection has its driver's
        try:
            return driver.execute(compiled.sql, values)
        except conn.dialect.loaded_dbapi.Error as error:
            raise exc.DBAPIError.instance(
                compiled.sql, values, error, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
            ) from error

    def _checkpoint_forever(self) -> None:
        """Keep the write-ahead log short without making a writer wait: a passive checkpoint
        copies what no reader still needs while writes go on, and the next write then
        starts the log over."""
        conn: Connection | None = None
        failing = False
        while not self._stopping.wait(CHECKPOINT_SECONDS):
            try:
                conn = _usable(conn, self._reader)
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                conn.rollback()
                failing = False
            except Exception:
                if not failing:  # once per spell, not ten times a second
                    log.exception("sqlite_checkpoint_failed")
                failing = True
        if conn is not None:
            conn.close()

    def _write_forever(self) -> None:
        """The writer thread: commits whatever was queued meanwhile together, and hands each
        outcome straight to its waiter's loop (no hop through a task in between: each
        hop cost a run ~0.1 ms)."""
        while (first := self._queue.get()) is not None:
            batch = [first]
            stopping = False
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            outcomes = self._commit([work for work, _ in batch])
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                by_loop.setdefault(future.get_loop(), []).append((future, outcome))
            for loop, settled in by_loop.items():
                with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                    loop.call_soon_threadsafe(_settle, settled)
            if stopping:
                return

    def _commit(self, works: list[Work]) -> list[tuple[bool, Any]]:
        """In the writer thread: all in one transaction, or, if one fails, each alone."""
        try:
            self._writing = conn = _usable(self._writing, self._writer)
            with conn.begin():
                return [(True, work(conn)) for work in works]
        except Exception as exc:
            if len(works) == 1:
                return [(False, exc)]
        return [self._commit([work])[0] for work in works]

    async def erase_history(self) -> None:
        # The write-ahead log holds earlier page images (a deleted credential among them)
        # until a checkpoint copies it into the database and truncates it.
        def checkpoint() -> None:
            with self._reader.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

        await asyncio.to_thread(checkpoint)

    async def close(self) -> None:
        if self._thread is not None:
            # Writes already accepted are committed before the writer stops.
            await asyncio.gather(*self._unsettled, return_exceptions=True)
            self._queue.put(None)
            self._stopping.set()
            await asyncio.to_thread(self._thread.join)
            if self._checkpoints is not None:
                await asyncio.to_thread(self._checkpoints.join)
            self._thread = self._checkpoints = None
        for held in (self._reading, self._writing, self._writing_inline):
            if held is not None:
                held.close()
        self._reading = self._writing = self._writing_inline = None
        self._reader.dispose()
        self._writer.dispose()
        self._inline_writer.dispose()


class AsyncRunner:
    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        # A fixed pool: overflow connections are closed as soon as they are returned, and a
        # new PostgreSQL connection (TLS negotiation, authentication) costs far more than
        # waiting a moment for a pooled one. Statements are short, so a few connections
        # serve many concurrent requests or attempts; every process counts against the
        # server's max_connections. No ping on checkout (a round trip per transaction): a
        # connection the server dropped fails its statement, which marks the whole pool
        # stale, and the caller sees the database as unavailable (a 503, a retried lease).
        self.engine = sqlalchemy.ext.asyncio.create_async_engine(
            url, pool_size=pool_size, max_overflow=0, pool_timeout=30
        )
        # Reads and single statements need no BEGIN and COMMIT around them: two round trips
        # fewer. (A read of several statements may then see commits between them.)
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.dialect = self.engine.dialect.name

    async def read(self, work: Callable[[Connection], T]) -> T:
        return await self._without_transaction(work)

    async def read_first(
        self, query: Select[Any], parameters: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        return await self._without_transaction(functools.partial(_first_row, query, parameters))

    async def write(self, work: Callable[[Connection], T], *, quiet: bool = False) -> T:
        async with self.engine.begin() as conn:
            return await conn.run_sync(work)

    async def write_one(self, work: Callable[[Connection], T], *, quiet: bool = False) -> T:
        return await self._without_transaction(work)

    def execute(
        self, conn: Connection, statement: UpdateBase, parameters: Mapping[str, Any]
    ) -> int:
        return int(conn.execute(statement, parameters).rowcount)

    async def _without_transaction(self, work: Callable[[Connection], T]) -> T:
        async with self._autocommit.connect() as conn:
            return await conn.run_sync(work)

    async def erase_history(self) -> None:
        """PostgreSQL reclaims dead row versions with (auto)vacuum; they stay sealed."""

    async def close(self) -> None:
        await self.engine.dispose()
