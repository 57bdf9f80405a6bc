"""Curated pieces' runs against their vendors' stand-ins, one module per kind of connection:
each keeps its ``Cases``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import trustme

from actionruns.cli.pieces import CURATED
from actionruns.openapi.naming import snake
from actionruns.pieces.mapping import piece_manifest
from actionruns.pieces.runtime import PieceRunner
from actionruns.sdk.context import Context
from tests.pieces.conftest import described_piece
from tests.pieces.standin import Observer, StandIn, checking, standin_context

Run = Callable[[PieceRunner, Context, list[httpx2.Request]], Awaitable[None]]


@dataclass(frozen=True)
class Case:
    """A piece's run: the stand-in answers as the vendor would, ``documented`` checks every
    request (against the vendor's reference, or its API description), ``run`` picks from the
    dropdowns, performs and checks what came back."""

    piece: str
    hosts: tuple[str, ...]
    credentials: dict[str, Any]
    documented: Callable[[], Observer]
    answers: Callable[[httpx2.Request], httpx2.Response]
    run: Run


class Cases(list[Case]):
    """A module's cases: ``@cases.add(...)`` makes its run one."""

    def add(
        self,
        piece: str,
        hosts: tuple[str, ...],
        credentials: dict[str, Any],
        documented: Callable[[], Observer],
        answers: Callable[[httpx2.Request], httpx2.Response],
    ) -> Callable[[Run], Run]:
        def register(run: Run) -> Run:
            self.append(Case(piece, hosts, credentials, documented, answers, run))
            return run

        return register


async def run_case(case: Case, ca: trustme.CA) -> None:
    """``case`` run at its tested version against its stand-in: every request checked, and
    none found wrong."""
    installed, description = await described_piece(case.piece, CURATED[case.piece])
    manifest = piece_manifest(snake(case.piece), description, installed).manifest
    observer = case.documented()
    standin = StandIn(case.hosts, checking(observer, case.answers)).start(ca)
    try:
        async with standin_context(manifest, case.credentials, standin) as ctx:
            await case.run(PieceRunner(manifest), ctx, standin.requests)
    finally:
        standin.stop()
    assert observer.checked == len(standin.requests) > 0
    assert observer.violations == [], "\n".join(observer.violations)


def route(request: httpx2.Request) -> str:
    return f"{request.method} {request.url.path}"


def sent(request: httpx2.Request) -> Any:
    return json.loads(request.content)
