"""Pages of the runs list and their cursors, for the API, the command line and the dashboard.

A cursor is the position of a page's last run, opaque to callers (base64url of JSON): the
next page is the runs after it, however many were submitted in between.
"""

from __future__ import annotations

import base64
import binascii
import json

from actionruns.errors import Unprocessable
from actionruns.store import RunFilter, RunPosition, RunRecord, Store

MAX_CURSOR_LENGTH = 512


def encode_cursor(run: RunRecord) -> str:
    position = json.dumps([run.created_at, run.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> RunPosition:
    """The position a cursor names; a 400 on the ``cursor`` parameter if it names none."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, run_id = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(created_at, int | float) or isinstance(created_at, bool):
            raise ValueError
        if not isinstance(run_id, str):
            raise ValueError
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise Unprocessable(
            "cursor is not one this service gave out; start again without it.",
            parameter="cursor",
        ) from None
    return RunPosition(float(created_at), run_id)


async def list_runs(
    store: Store, wanted: RunFilter, cursor: str | None, limit: int
) -> tuple[list[RunRecord], str | None]:
    """Up to ``limit`` runs after ``cursor``, and the next page's cursor (None at the end)."""
    after = decode_cursor(cursor) if cursor is not None else None
    # One more than asked tells whether another page follows without a count.
    found = await store.list_runs(wanted, after, limit + 1)
    page = found[:limit]
    return page, encode_cursor(page[-1]) if len(found) > limit else None
