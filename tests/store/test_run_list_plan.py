"""The runs list is served by its index, in order, with 100,000 runs: no sort of a client's
runs, no scan of the table, on either backend (plans read with EXPLAIN after ANALYZE); on
PostgreSQL every filter of the list and of the dashboard, on one database filled once."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Select, text
from sqlalchemy.schema import CreateIndex, DropIndex

from actionruns.store import RunFilter, RunPosition, Store
from actionruns.store.migrate import upgrade
from actionruns.store.run_list import runs_page_query
from actionruns.store.schema import runs
from tests.postgres import fresh_database

RUNS = 100_000
CLIENTS = 50
END_USERS = 1_000
START = 1_700_000_000.0

# Portable between both backends: numbers 1..RUNS, as a recursive CTE.
_FILL = f"""
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {RUNS})
INSERT INTO runs (id, client_id, end_user_id, app_key, action_key, inputs, status, attempts,
                  max_attempts, available_at, cancel_requested, callback_attempts, created_at,
                  holds_limit)
SELECT 'run-' || n, 'client-' || (n % {CLIENTS}), 'user-' || (n % {END_USERS}),
       CASE n % 3 WHEN 0 THEN 'slack' WHEN 1 THEN 'github' ELSE 'webhooks' END, 'send',
       '{{}}', CASE n % 7 WHEN 0 THEN 'error' ELSE 'success' END, 1, 3, {START} + n, false,
       0, {START} + n, false
FROM seq
"""

# (filter, position, the index whose order serves it). PostgreSQL may serve a narrow filter
# (a hundred rows of the client's 2,000) from a bitmap of other indexes and a sort of what
# it found, which costs it less than walking the client's runs in order: then it is held
# only to reading no table in full.
CASES: dict[str, tuple[RunFilter, RunPosition | None, str]] = {
    "a client's newest": (RunFilter(client_id="client-7"), None, "ix_runs_owner_recent"),
    "the next page": (
        RunFilter(client_id="client-7"),
        RunPosition(START + 60_007, "run-60007"),
        "ix_runs_owner_recent",
    ),
    "failed runs of an app": (
        RunFilter(client_id="client-7", status="error", app_key="slack"),
        None,
        "ix_runs_owner_recent",
    ),
    "an end user's": (
        RunFilter(client_id="client-7", end_user_id="user-407"),
        None,
        "ix_runs_end_user",
    ),
    "a time window": (
        RunFilter(
            client_id="client-7", created_after=START + 20_000, created_before=START + 30_000
        ),
        None,
        "ix_runs_owner_recent",
    ),
    "everyone's (the operator)": (RunFilter(), None, "ix_runs_recent"),
}


IN_INDEX_ORDER_ON_POSTGRESQL = {"a client's newest", "the next page", "everyone's (the operator)"}


@pytest.fixture
async def filled(tmp_path: Path) -> AsyncIterator[Store]:
    """SQLite's; PostgreSQL's are checked in one test below, on one database filled once."""
    store = Store.from_url(f"sqlite:///{tmp_path / 'runs.db'}")
    await upgrade(store)
    await store.transaction(_fill)
    yield store
    await store.close()


def _fill(conn: Connection) -> None:
    for n in range(CLIENTS):
        conn.execute(
            text(
                "INSERT INTO clients (id, name, secret_hash, scopes, signing_secret, disabled, "
                "created_at) VALUES (:id, :id, 'x', '[]', :secret, false, 0)"
            ),
            {"id": f"client-{n}", "secret": b"x"},
        )
    conn.execute(text(_FILL))
    conn.execute(text("ANALYZE"))


@pytest.mark.parametrize("case", list(CASES))
async def test_the_runs_list_reads_its_index_in_order(filled: Store, case: str) -> None:
    wanted, after, index = CASES[case]
    query = runs_page_query(wanted, after, 51)
    steps = await filled.runner.read(lambda conn: _sqlite_plan(conn, query))
    assert any(f"INDEX {index}" in step for step in steps), steps
    # A walk of the whole index in order is fine (it stops at the limit); of the table not.
    assert not any("TEMP B-TREE" in step or step == "SCAN runs" for step in steps), steps
    await _newest_first(filled, wanted, after)


async def _newest_first(store: Store, wanted: RunFilter, after: RunPosition | None) -> None:
    found = await store.list_runs(wanted, after, 51)
    assert len(found) == 51
    times = [run.created_at for run in found]
    assert times == sorted(times, reverse=True)


def _compiled(conn: Connection, query: Select[Any]) -> str:
    return str(query.compile(conn, compile_kwargs={"literal_binds": True}))


def _plan_of(query: Select[Any], conn: Connection) -> dict[str, Any]:
    return _postgresql_plan(conn, query)


def _postgresql_plan(conn: Connection, query: Select[Any]) -> dict[str, Any]:
    explained = conn.execute(text("EXPLAIN (FORMAT JSON) " + _compiled(conn, query))).scalar_one()
    plan = json.loads(explained) if isinstance(explained, str) else explained
    result: dict[str, Any] = plan[0]["Plan"]
    return result


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _sqlite_plan(conn: Connection, query: Select[Any]) -> list[str]:
    rows = conn.execute(text("EXPLAIN QUERY PLAN " + _compiled(conn, query)))
    return [str(row[-1]) for row in rows]


# Every filter of GET /v2/action-runs and of the dashboard's runs page (every client's), each
# first page and a later one; the plan may sort what an index found (a narrow filter), but
# reads no table in full.
EVERY_FILTER: dict[str, RunFilter] = {
    "everyone's": RunFilter(),
    "a status": RunFilter(status="error"),
    "an app": RunFilter(app_key="slack"),
    "an action": RunFilter(app_key="slack", action_key="send"),
    "an end user's": RunFilter(end_user_id="user-407"),
    "a client's": RunFilter(client_id="client-7"),
    "an authentication's": RunFilter(authentication_id="auth-7"),
    "a time window": RunFilter(created_after=START + 20_000, created_before=START + 30_000),
    "a client's end user's": RunFilter(client_id="client-7", end_user_id="user-407"),
    "a client's authentication's": RunFilter(client_id="client-7", authentication_id="auth-7"),
    "a client's failed runs": RunFilter(client_id="client-7", status="error"),
}

_SERIES = f"""
INSERT INTO runs (id, client_id, end_user_id, app_key, action_key, authentication_id, inputs,
                  status, attempts, max_attempts, available_at, cancel_requested,
                  callback_attempts, created_at, holds_limit)
SELECT 'run-' || n, 'client-' || (n % {CLIENTS}), 'user-' || (n % {END_USERS}),
       CASE n % 3 WHEN 0 THEN 'slack' WHEN 1 THEN 'github' ELSE 'webhooks' END, 'send',
       'auth-' || (n % 500), '{{}}', CASE n % 7 WHEN 0 THEN 'error' ELSE 'success' END, 1, 3,
       {START} + n, false, 0, {START} + n, false
FROM generate_series(1, {RUNS}) AS n
"""


def _fill_series(conn: Connection) -> None:
    """100,000 runs in one statement, the indexes built after it (a third of the time of
    keeping each up to date row by row): the same indexes, as the migrations make them."""
    for n in range(CLIENTS):
        conn.execute(
            text(
                "INSERT INTO clients (id, name, secret_hash, scopes, signing_secret, disabled, "
                "created_at) VALUES (:id, :id, 'x', '[]', :secret, false, 0)"
            ),
            {"id": f"client-{n}", "secret": b"x"},
        )
    for index in runs.indexes:
        conn.execute(DropIndex(index))
    conn.execute(text(_SERIES))
    for index in runs.indexes:
        conn.execute(CreateIndex(index))
    conn.execute(text("ANALYZE runs"))


async def test_on_postgresql_every_filter_reads_an_index_not_the_table() -> None:
    async with fresh_database() as url:
        store = Store.from_url(url)
        try:
            await upgrade(store)
            await store.transaction(_fill_series)
            # PostgreSQL may serve a narrow filter from a bitmap and a sort of what it found
            # (see CASES); the widest are read in the index's order, with no sort at all.
            for name, (wanted, after, index) in CASES.items():
                query = runs_page_query(wanted, after, 51)
                plan = await store.runner.read(functools.partial(_plan_of, query))
                nodes = list(_nodes(plan))
                kinds = {node["Node Type"] for node in nodes}
                assert "Seq Scan" not in kinds, (name, plan)
                if name in IN_INDEX_ORDER_ON_POSTGRESQL:
                    assert "Sort" not in kinds, (name, plan)
                    assert index in {node.get("Index Name") for node in nodes}, (name, plan)
                await _newest_first(store, wanted, after)
            for name, wanted in EVERY_FILTER.items():
                for after in (None, RunPosition(START + 60_007, "run-60007")):
                    query = runs_page_query(wanted, after, 51)
                    plan = await store.runner.read(functools.partial(_plan_of, query))
                    nodes = list(_nodes(plan))
                    assert "Seq Scan" not in {node["Node Type"] for node in nodes}, (name, plan)
                    assert any(node.get("Index Name") for node in nodes), (name, plan)
            # The end user's runs, everyone's: in the order of their own index.
            query = runs_page_query(EVERY_FILTER["an end user's"], None, 51)
            plan = await store.runner.read(functools.partial(_plan_of, query))
            assert "ix_runs_end_user" in {node.get("Index Name") for node in _nodes(plan)}, plan
        finally:
            await store.close()
