"""A connector's driver: a package the core install leaves out (a database or broker client).

A connector imports it inside ``driver``::

    with driver("redis", extra="connectors-data"):
        import redis.asyncio as aioredis

Without the package the app is listed as unavailable, with the reason and what installs it,
instead of failing to import.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class DriverMissing(ImportError):
    """The connector's driver is not installed; the message says what installs it."""

    def __init__(self, package: str, extra: str | None, module: str | None) -> None:
        install = f"pip install 'actionruns[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"its driver {package} is not installed ({install})", name=module)
        self.package = package
        self.extra = extra


@contextmanager
def driver(package: str, *, extra: str | None = None) -> Iterator[None]:
    """Import a driver: ``package`` is its name on PyPI, ``extra`` the actionruns extra that
    installs it (none for a third-party connector's own dependency)."""
    try:
        yield
    except ModuleNotFoundError as exc:
        raise DriverMissing(package, extra, exc.name) from exc
