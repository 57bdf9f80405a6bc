"""An attempt's end: the run moves on and its attempt closes, if the worker still holds it.

SQLite writes the two rows in the writer thread's transaction (which already groups whatever
was queued meanwhile). On PostgreSQL each finish was a statement and a commit of its own, the
one write per run that no other run shared; a worker under load ends many attempts at the
same moment, so those are sent together: one statement, one round trip, one commit, and
each caller still learns whether its own run was held.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Integer,
    Select,
    String,
    Text,
    any_,
    bindparam,
    cast,
    column,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.type_api import TypeEngine

from actionruns.store.engines import Runner
from actionruns.store.schema import run_attempts, runs

# What an attempt's end writes to its row.
ATTEMPT_END_COLUMNS = ("finished_at", "outcome", "error", "retry_delay", "requests", "logs")

# A lease is checked by its owner alone: lease_owner is set exactly while a run is running
# (a CHECK constraint holds it). A status condition as well would let PostgreSQL, without
# fresh statistics, walk the status index through every running row instead of taking the
# primary key; seen in the scale benchmark on every finish.
_FINISH_RUN = update(runs).where(
    runs.c.id == bindparam("b_run"), runs.c.lease_owner == bindparam("b_worker")
)
_FINISH_ATTEMPT = update(run_attempts).where(
    run_attempts.c.run_id == bindparam("b_run"), run_attempts.c.number == bindparam("b_number")
)


@dataclass(frozen=True)
class AttemptEnd:
    """One attempt's end: ``run_values`` for the run's row (the lease given up among them),
    ``attempt_values`` for the attempt's (``ATTEMPT_END_COLUMNS``)."""

    run_id: str
    number: int
    worker: str
    run_values: Mapping[str, Any]
    attempt_values: Mapping[str, Any]


def finish_in(runner: Runner, conn: Connection, end: AttemptEnd) -> bool:
    """SQLite, in the writer's transaction: both rows, or neither if the lease was lost."""
    held = {"b_run": end.run_id, "b_worker": end.worker, **end.run_values}
    if runner.execute(conn, _FINISH_RUN, held) == 0:
        return False
    attempt = {"b_run": end.run_id, "b_number": end.number, **end.attempt_values}
    runner.execute(conn, _FINISH_ATTEMPT, attempt)
    return True


async def finish_together(runner: Runner, ends: Sequence[AttemptEnd]) -> list[bool]:
    """PostgreSQL: attempts ending with the same run columns set, in one statement.

    Each answer says whether that worker still held that run (and so wrote both rows).
    """
    statement = _finish_statement(frozenset(ends[0].run_values))
    parameters = {
        "b_ids": [end.run_id for end in ends],
        "b_ends": [_wire_row(end) for end in ends],
    }
    finished = await runner.write_one(
        lambda conn: set(conn.execute(statement, parameters).scalars())
    )
    return [end.run_id in finished for end in ends]


def _is_json(type_: TypeEngine[Any]) -> bool:
    return isinstance(type_, JSON)


def _wire_row(end: AttemptEnd) -> dict[str, Any]:
    """One element of the statement's JSON array. A JSON column's value travels as its JSON
    text, cast back in SQL: a None is then stored as JSON null, exactly as a single-row
    statement stores it (``json_to_recordset`` would make it SQL NULL)."""
    row: dict[str, Any] = {"run_id": end.run_id, "number": end.number, "worker": end.worker}
    for prefix, table, values in (
        ("run", runs, end.run_values),
        ("attempt", run_attempts, end.attempt_values),
    ):
        for name, value in values.items():
            row[f"{prefix}_{name}"] = json.dumps(value) if _is_json(table.c[name].type) else value
    return row


@functools.cache
def _finish_statement(run_columns: frozenset[str]) -> Select[Any]:
    """Runs moved on and their attempts closed, for every element of ``b_ends`` whose
    worker still held its run; selects those runs' ids.

    Rows are found by primary key (``b_ids``) before they are matched with their element:
    a join with the array alone may be planned as a scan of the table.
    """
    run_names, attempt_names = sorted(run_columns), ATTEMPT_END_COLUMNS

    def wire_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
        return Text() if _is_json(type_) else type_

    ending = select(
        func.json_to_recordset(bindparam("b_ends", type_=JSON))
        .table_valued(
            column("run_id", String()),
            column("number", Integer()),
            column("worker", String()),
            *(column(f"run_{name}", wire_type(runs.c[name].type)) for name in run_names),
            *(
                column(f"attempt_{name}", wire_type(run_attempts.c[name].type))
                for name in attempt_names
            ),
        )
        .render_derived(name="ended", with_types=True)
    ).cte("ending")
    ids = any_(bindparam("b_ids", type_=ARRAY(String)))

    def value(prefix: str, name: str, type_: TypeEngine[Any]) -> Any:
        wired = ending.c[f"{prefix}_{name}"]
        return cast(wired, type_) if _is_json(type_) else wired

    finished = (
        update(runs)
        .where(runs.c.id == ids, runs.c.id == ending.c.run_id)
        .where(runs.c.lease_owner == ending.c.worker)
        .values({name: value("run", name, runs.c[name].type) for name in run_names})
        .returning(runs.c.id)
        .cte("finished")
    )
    closed = (
        update(run_attempts)
        .where(run_attempts.c.run_id == ids, run_attempts.c.run_id == ending.c.run_id)
        .where(run_attempts.c.number == ending.c.number)
        .where(ending.c.run_id.in_(select(finished.c.id)))
        .values({name: value("attempt", name, run_attempts.c[name].type) for name in attempt_names})
        .cte("closed")
    )
    return select(finished.c.id).add_cte(closed)
