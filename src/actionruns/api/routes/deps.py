"""Shared route dependencies."""

from __future__ import annotations

from fastapi import Query, Request

from actionruns.engine import Engine

MAX_OFFSET = 1_000_000


async def engine(request: Request) -> Engine:
    service: Engine = request.app.state.engine
    return service


async def limit_param(limit: int = Query(10, ge=1, le=100, description="Items per page")) -> int:
    return limit


async def offset_param(
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Items to skip"),
) -> int:
    return offset
