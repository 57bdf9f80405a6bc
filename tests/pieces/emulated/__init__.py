"""Curated pieces' runs against their vendors' stand-ins, one module per kind of connection:
each keeps its ``Cases``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx2

from actionruns.pieces.runtime import PieceRunner
from actionruns.sdk.context import Context
from tests.pieces.standin import Documented

Run = Callable[[PieceRunner, Context, list[httpx2.Request]], Awaitable[None]]


@dataclass(frozen=True)
class Case:
    """A piece's run: the stand-in answers as the vendor would, ``documented`` checks every
    request, ``run`` picks from the dropdowns, performs and checks what came back."""

    piece: str
    hosts: tuple[str, ...]
    credentials: dict[str, Any]
    documented: Callable[[], Documented]
    answers: Callable[[httpx2.Request], httpx2.Response]
    run: Run


class Cases(list[Case]):
    """A module's cases: ``@cases.add(...)`` makes its run one."""

    def add(
        self,
        piece: str,
        hosts: tuple[str, ...],
        credentials: dict[str, Any],
        documented: Callable[[], Documented],
        answers: Callable[[httpx2.Request], httpx2.Response],
    ) -> Callable[[Run], Run]:
        def register(run: Run) -> Run:
            self.append(Case(piece, hosts, credentials, documented, answers, run))
            return run

        return register


def route(request: httpx2.Request) -> str:
    return f"{request.method} {request.url.path}"


def sent(request: httpx2.Request) -> Any:
    return json.loads(request.content)
