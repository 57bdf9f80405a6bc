"""Imported apps behave alike on the embedded default and on PostgreSQL."""

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
