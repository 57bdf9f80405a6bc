"""Concurrent calls share a round trip, and one caller's bad item fails that caller only."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from actionruns.store.coalesce import Coalescer


class Unavailable(Exception):
    """The database is away: every item of the batch would fail alike."""


class Doubling:
    """A stand-in for one all-or-nothing statement: doubles numbers, refuses negative ones,
    and fails every batch while ``away``."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.away = False

    async def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        await self.release.wait()
        if self.away:
            raise Unavailable()
        if any(item < 0 for item in items):
            raise ValueError("negative")
        return [item * 2 for item in items]


def refused(error: Exception) -> bool:
    return isinstance(error, ValueError)


async def ticks() -> None:
    """Let the tasks just made (and the ones they make) run up to their first wait."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_calls_made_while_a_batch_is_in_flight_go_out_together() -> None:
    send = Doubling()
    send.release.clear()
    coalescer = Coalescer(send, refused)
    first = asyncio.create_task(coalescer(1))
    await ticks()
    assert send.batches == [[1]]  # the first call is not held back
    rest = [asyncio.create_task(coalescer(n)) for n in (2, 3, 4)]
    await ticks()
    send.release.set()
    assert await first == 2
    assert await asyncio.gather(*rest) == [4, 6, 8]
    assert send.batches == [[1], [2, 3, 4]]


async def test_batches_are_capped() -> None:
    send = Doubling()
    send.release.clear()
    coalescer = Coalescer(send, refused, max_batch=2)
    calls = [asyncio.create_task(coalescer(n)) for n in range(5)]
    await ticks()
    send.release.set()
    assert await asyncio.gather(*calls) == [0, 2, 4, 6, 8]
    assert send.batches == [[0, 1], [2, 3], [4]]


async def test_a_failing_batch_is_sent_again_item_by_item() -> None:
    send = Doubling()
    send.release.clear()
    coalescer = Coalescer(send, refused)
    calls = [asyncio.create_task(coalescer(n)) for n in (1, -1, 3)]
    await ticks()
    send.release.set()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert results[0] == 2 and results[2] == 6
    assert isinstance(results[1], ValueError)
    assert send.batches == [[1, -1, 3], [1], [-1], [3]]


async def test_a_cancelled_caller_does_not_stop_its_batch() -> None:
    send = Doubling()
    send.release.clear()
    coalescer = Coalescer(send, refused)
    first = asyncio.create_task(coalescer(1))
    second = asyncio.create_task(coalescer(2))
    await ticks()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    send.release.set()
    assert await second == 4
    assert send.batches == [[1, 2]]


async def test_a_batch_that_could_not_be_sent_fails_every_caller_at_once() -> None:
    send = Doubling()
    send.release.clear()
    send.away = True
    coalescer = Coalescer(send, refused)
    calls = [asyncio.create_task(coalescer(n)) for n in (1, 2, 3)]
    await ticks()
    send.release.set()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(result, Unavailable) for result in results)
    assert send.batches == [[1, 2, 3]]  # not sent again one by one


async def test_callers_are_not_left_waiting_when_the_sender_stops() -> None:
    send = Doubling()
    send.release.clear()
    coalescer = Coalescer(send, refused)
    calls = [asyncio.create_task(coalescer(n)) for n in (1, 2)]
    await ticks()
    later = asyncio.create_task(coalescer(3))  # waits for the next batch
    await ticks()
    sender = coalescer._sender
    assert sender is not None
    sender.cancel()  # as at shutdown
    results = await asyncio.gather(*calls, later, return_exceptions=True)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
