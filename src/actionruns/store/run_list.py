"""The runs list: a client's runs (or every client's, for the operator), newest first,
filtered, a page at a time.

Pages are cut by position, not by offset: each page asks for the runs after the last one
shown, in (created_at, id) order. Runs submitted meanwhile are newer than every run shown,
so they neither shift nor repeat later pages. The order is the index ``ix_runs_owner_recent``
(or ``ix_runs_recent``, or for an end user's runs ``ix_runs_end_user``) read backwards, on
both backends; the other filters are checked on the rows it yields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.sql.expression import ColumnElement

from actionruns.store.schema import runs


@dataclass(frozen=True)
class RunFilter:
    """Which runs to list; None means any (every client's: the operator's views)."""

    client_id: str | None = None
    end_user_id: str | None = None
    status: str | None = None
    app_key: str | None = None
    action_key: str | None = None
    authentication_id: str | None = None
    created_after: float | None = None
    created_before: float | None = None


@dataclass(frozen=True)
class RunPosition:
    """Where a page ends: the (created_at, id) of its last run."""

    created_at: float
    run_id: str


def _matching(wanted: RunFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column, value in (
        (runs.c.client_id, wanted.client_id),
        (runs.c.end_user_id, wanted.end_user_id),
        (runs.c.status, wanted.status),
        (runs.c.app_key, wanted.app_key),
        (runs.c.action_key, wanted.action_key),
        (runs.c.authentication_id, wanted.authentication_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if wanted.created_after is not None:
        conditions.append(runs.c.created_at > wanted.created_after)
    if wanted.created_before is not None:
        conditions.append(runs.c.created_at < wanted.created_before)
    return conditions


def finished_runs_query(
    wanted: RunFilter, since: float | None, limit: int, *, latest: bool = False
) -> Select[Any]:
    """Up to ``limit`` runs matching ``wanted`` that finished at or after ``since``, in the
    order they finished, or with ``latest`` the last ones to finish, the latest first (both
    on ``ix_runs_finished``)."""
    conditions = _matching(wanted)
    conditions.append(
        runs.c.finished_at >= since if since is not None else runs.c.finished_at.is_not(None)
    )
    order = (
        (runs.c.finished_at.desc(), runs.c.id.desc()) if latest else (runs.c.finished_at, runs.c.id)
    )
    return select(runs).where(*conditions).order_by(*order).limit(limit)


def runs_page_query(wanted: RunFilter, after: RunPosition | None, limit: int) -> Select[Any]:
    """Up to ``limit`` runs matching ``wanted`` older than ``after``, newest first."""
    conditions = _matching(wanted)
    if after is not None:
        conditions.append(
            tuple_(runs.c.created_at, runs.c.id) < tuple_(after.created_at, after.run_id)
        )
    return (
        select(runs)
        .where(*conditions)
        .order_by(runs.c.created_at.desc(), runs.c.id.desc())
        .limit(limit)
    )
