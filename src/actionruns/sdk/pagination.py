"""Dropdown choices from paginated vendor lists: the client asks for page N, the vendor
pages by cursor or by page number."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from actionruns.sdk.fields import Choice, ChoicePage

CursorFetch = Callable[[str | None], Awaitable[tuple[Sequence[Choice], str | None]]]
"""Fetch one vendor page from a cursor (None for the first): its choices and the next cursor
(None or "" at the end)."""


async def cursor_page(fetch: CursorFetch, page: int) -> ChoicePage:
    """Page ``page`` (from 0) of a cursor-paginated list, walking the cursors to reach it."""
    cursor: str | None = None
    choices: Sequence[Choice] = ()
    for number in range(page + 1):
        choices, cursor = await fetch(cursor)
        if not cursor and number < page:
            return ChoicePage([])  # asked past the last page
    return ChoicePage(list(choices), has_more=bool(cursor))


NumberedFetch = Callable[[int], Awaitable[tuple[Sequence[Choice], bool]]]
"""Fetch vendor page N (from 1): its choices and whether more follow."""


async def numbered_page(fetch: NumberedFetch, page: int) -> ChoicePage:
    """Page ``page`` (from 0) of a list the vendor numbers from 1."""
    choices, more = await fetch(page + 1)
    return ChoicePage(list(choices), has_more=more)
