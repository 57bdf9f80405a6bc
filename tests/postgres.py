"""A fresh PostgreSQL database per test, on the server these machines run.

Without a server the tests that need one skip, saying why; under CI (``CI=true``) they fail
instead, since CI machines must have it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

ADMIN_URL = os.environ.get(
    "ACTIONRUNS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _unavailable(reason: str) -> None:
    message = f"PostgreSQL is not reachable at {ADMIN_URL} ({reason}); set ACTIONRUNS_TEST_POSTGRES"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}: under CI it must run")
    pytest.skip(message)


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        _unavailable(str(exc) or type(exc).__name__)
        raise


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """Create an empty database for one test and drop it afterwards; yields its URL.

    Each step uses its own connection: a test may restart the server in between.
    """
    name = f"actionruns_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        base, _, _ = ADMIN_URL.rpartition("/")
        yield f"{base}/{name}"
    finally:
        admin = await _admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
