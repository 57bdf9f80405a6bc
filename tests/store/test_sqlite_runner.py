"""The SQLite runner: hot statements run straight on the driver and must write exactly what
SQLAlchemy's own execution path writes, and fail the same way; the log is checkpointed
beside the writes."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError

from actionruns.store.engines import SQLiteRunner
from actionruns.store.schema import clients, limiters, metadata, runs


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[SQLiteRunner]:
    sqlite = SQLiteRunner(f"sqlite:///{tmp_path / 'store.db'}")
    metadata.create_all(sqlite.sync_engine)
    client = {
        "id": "client-1",
        "name": "acme",
        "secret_hash": "x",
        "scopes": ["action:run"],
        "signing_secret": b"secret",
        "disabled": False,
        "created_at": time.time(),
    }
    await sqlite.write(lambda conn: conn.execute(insert(clients), client))
    yield sqlite
    await sqlite.close()


def run_values(run_id: str) -> dict[str, Any]:
    now = time.time()
    return {
        "id": run_id,
        "client_id": "client-1",
        "end_user_id": None,
        "app_key": "webhooks",
        "action_key": "send_request",
        "authentication_id": None,
        "inputs": {"url": "https://example.com/hook", "body": {"n": 1, "ok": True}},
        "status": "queued",
        "results": None,
        "errors": [{"code": "user", "title": "é ✓"}],
        "attempts": 0,
        "max_attempts": 3,
        "available_at": now,
        "lease_owner": None,
        "lease_expires_at": None,
        "cancel_requested": True,
        "callback_url": None,
        "callback_status": None,
        "callback_attempts": 0,
        "callback_next_at": None,
        "callback_error": None,
        "idempotency_key": None,
        "request_hash": None,
        "created_at": now,
        "started_at": None,
        "finished_at": None,
        "limit_key": None,
        "holds_limit": False,
        "request_id": None,
        "trace_context": None,
    }


def stored(conn: Connection, run_id: str) -> dict[str, Any]:
    row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().one()
    return {key: value for key, value in row.items() if key != "id"}


async def test_a_driver_insert_stores_what_sqlalchemy_stores(runner: SQLiteRunner) -> None:
    values = run_values("through-driver")
    await runner.write(lambda conn: runner.execute(conn, insert(runs), values))
    await runner.write(lambda conn: conn.execute(insert(runs), run_values("through-sqlalchemy")))

    by_driver = await runner.read(lambda conn: stored(conn, "through-driver"))
    by_sqlalchemy = await runner.read(lambda conn: stored(conn, "through-sqlalchemy"))
    assert by_driver == by_sqlalchemy | {
        "available_at": values["available_at"],
        "created_at": values["created_at"],
    }
    assert by_driver["inputs"] == values["inputs"] and by_driver["cancel_requested"] is True


async def test_a_driver_update_counts_the_rows_it_changed(runner: SQLiteRunner) -> None:
    await runner.write(lambda conn: conn.execute(insert(runs), run_values("run-1")))
    finish = update(runs).where(runs.c.id == "run-1", runs.c.status == "queued")
    parameters = {"status": "success", "results": [{"id": 7}]}

    assert await runner.write(lambda conn: runner.execute(conn, finish, parameters)) == 1
    assert await runner.write(lambda conn: runner.execute(conn, finish, parameters)) == 0
    row = await runner.read(lambda conn: stored(conn, "run-1"))
    assert row["status"] == "success" and row["results"] == [{"id": 7}]


async def test_driver_errors_are_sqlalchemy_errors(runner: SQLiteRunner) -> None:
    values = run_values("run-1")
    await runner.write(lambda conn: runner.execute(conn, insert(runs), values))
    with pytest.raises(IntegrityError):
        await runner.write(lambda conn: runner.execute(conn, insert(runs), values))


async def test_a_statement_needing_python_defaults_is_refused(runner: SQLiteRunner) -> None:
    # "attempts" has a default SQLAlchemy fills in; the driver path would store NULL.
    values = {key: value for key, value in run_values("run-1").items() if key != "attempts"}
    with pytest.raises(ValueError, match="Pass every column"):
        await runner.write(lambda conn: runner.execute(conn, insert(runs), values))


async def test_the_write_ahead_log_is_copied_into_the_database_beside_the_writes(
    tmp_path: Path,
) -> None:
    # Commits checkpoint only past 16 MB (it holds up the writes queued behind them): the
    # runner's own thread copies the log into the database as writes go on.
    sqlite = SQLiteRunner(f"sqlite:///{tmp_path / 'store.db'}")
    metadata.create_all(sqlite.sync_engine)
    database = tmp_path / "store.db"

    def insert_large_row(key: str, conn: Connection) -> None:
        conn.execute(insert(limiters), {"key": key + "x" * 100_000, "tat": 0.0})

    try:
        # 10 MB through the log (each key is stored twice, in the table and its index):
        # under what makes a commit checkpoint.
        for number in range(50):
            await sqlite.write(functools.partial(insert_large_row, f"k{number}"))
        for _ in range(100):
            if database.stat().st_size > 9_000_000:
                break
            await asyncio.sleep(0.05)
        assert database.stat().st_size > 9_000_000
    finally:
        await sqlite.close()


async def test_a_parameter_the_statement_needs_must_be_given(runner: SQLiteRunner) -> None:
    finish = update(runs).where(runs.c.id == bindparam("b_run"), runs.c.status == "queued")
    with pytest.raises(KeyError, match="b_run"):
        await runner.write(lambda conn: runner.execute(conn, finish, {"status": "success"}))


async def test_a_quiet_write_commits_on_the_callers_thread(
    runner: SQLiteRunner, tmp_path: Path
) -> None:
    threads: list[str] = []

    def insert_run(conn: Connection) -> None:
        threads.append(threading.current_thread().name)
        runner.execute(conn, insert(runs), run_values("run-1"))

    await runner.write(insert_run, quiet=True)
    assert threads == [threading.current_thread().name]
    with sqlite3.connect(tmp_path / "store.db") as other:  # committed: another process sees it
        assert other.execute("SELECT count(*) FROM runs").fetchone() == (1,)


async def test_a_quiet_write_waits_in_the_writer_thread_while_another_process_writes(
    runner: SQLiteRunner, tmp_path: Path
) -> None:
    # The event loop never waits for SQLite's lock: the write goes to the writer thread,
    # which waits for it, and is committed once the other writer is done.
    other = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    threads: list[str] = []

    def insert_run(conn: Connection) -> None:
        threads.append(threading.current_thread().name)
        runner.execute(conn, insert(runs), run_values("run-2"))

    began = time.perf_counter()
    writing = asyncio.create_task(runner.write(insert_run, quiet=True))
    await asyncio.sleep(0.2)
    assert not writing.done()
    assert time.perf_counter() - began < 0.15 + 0.2, "the event loop was held up"
    other.execute("COMMIT")
    other.close()
    await writing
    assert threads == ["sqlite-writer"]
    # While a write is with the writer thread, a quiet one queues behind it (no overtaking).
    order: list[str] = []
    first = asyncio.create_task(runner.write(lambda conn: order.append("first")))
    await asyncio.sleep(0)
    await asyncio.gather(first, runner.write(lambda conn: order.append("quiet"), quiet=True))
    assert order == ["first", "quiet"]
    # And with the thread idle again, quiet writes are back on the caller's thread.
    await runner.write(lambda conn: order.append(threading.current_thread().name), quiet=True)
    assert order[-1] == threading.current_thread().name


async def test_a_driver_read_reads_what_sqlalchemy_reads(runner: SQLiteRunner) -> None:
    values = run_values("run-3") | {"results": [{"ok": 1.5, "none": None}], "holds_limit": True}
    await runner.write(lambda conn: runner.execute(conn, insert(runs), values))
    query = select(runs).where(runs.c.id == bindparam("b_id"))

    def by_sqlalchemy(conn: Connection) -> dict[str, Any]:
        return dict(conn.execute(query, {"b_id": "run-3"}).mappings().one())

    read = await runner.read_first(query, {"b_id": "run-3"})
    assert read == await runner.read(by_sqlalchemy)
    assert read is not None and read["cancel_requested"] is True and read["inputs"]["body"]
    assert await runner.read_first(query, {"b_id": "no-such-run"}) is None


async def test_statements_take_sqlalchemys_path_while_something_follows_them(
    runner: SQLiteRunner,
) -> None:
    # Tracing follows each statement through SQLAlchemy's events: the driver's shortcut
    # must not hide the hot ones from it.
    seen: list[str] = []

    def follow(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split()[0])

    for engine in (runner._reader, runner._writer, runner._inline_writer):
        event.listen(engine, "before_cursor_execute", follow)
    await runner.write(lambda conn: runner.execute(conn, insert(runs), run_values("run-4")))
    query = select(runs).where(runs.c.id == bindparam("b_id"))
    read = await runner.read_first(query, {"b_id": "run-4"})
    assert read is not None and read["inputs"]["body"] == {"n": 1, "ok": True}
    assert seen == ["INSERT", "SELECT"]
