"""The engine, wired: one object that owns the store, the vault and the background loops."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx2
import structlog

from actionruns.config import Settings
from actionruns.connections import ConnectionService
from actionruns.connections.connect import ConnectTokens
from actionruns.connections.key_uses import KeyUses
from actionruns.engine.attempts import AttemptLimits
from actionruns.engine.auth_events import AuthenticationEvents
from actionruns.engine.callbacks import CallbackDispatcher
from actionruns.engine.catalog import Catalog
from actionruns.engine.clients import ClientService
from actionruns.engine.events import RunEvents
from actionruns.engine.executor import Executor
from actionruns.engine.imported import AppImports
from actionruns.engine.metrics import Metrics
from actionruns.engine.operators import OperatorService
from actionruns.engine.ratelimit import ClientRateLimits
from actionruns.engine.request_counts import RequestCounter
from actionruns.engine.runs import RunService
from actionruns.engine.signing import CallbackSigner
from actionruns.engine.worker import Worker
from actionruns.sdk.outbound import OutboundGuard, Resolver
from actionruns.sdk.registry import Registry
from actionruns.store import Store
from actionruns.store.migrate import upgrade
from actionruns.vault import Keyring, Vault

if TYPE_CHECKING:
    from actionruns.engine.bus import PostgresBus

log = structlog.get_logger(__name__)

PURGE_INTERVAL_SECONDS = 3600.0
# The home holds the database and the key file: its owner's alone.
PRIVATE_DIRECTORY_MODE = 0o700
REFRESH_INTERVAL_SECONDS = 60.0


def load_keyring(settings: Settings) -> Keyring:
    if settings.secret_keys:
        return Keyring.parse(settings.secret_keys)
    return Keyring.load_or_create(settings.key_file)


class Engine:
    def __init__(
        self,
        settings: Settings,
        *,
        registry: Registry | None = None,
        clock: Callable[[], float] = time.time,
        connector_transport: httpx2.AsyncBaseTransport | None = None,
        callback_transport: httpx2.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        if not (settings.database_url and settings.secret_keys):  # the database or key file
            settings.home.mkdir(mode=PRIVATE_DIRECTORY_MODE, parents=True, exist_ok=True)
        self.settings = settings
        self.clock = clock
        self.registry = (
            registry
            if registry is not None
            else Registry.from_entry_points(settings.extra_connectors)
        )
        self.store = Store.from_url(settings.db_url, pool_size=settings.db_pool_size)
        self.imports = AppImports(self.store, self.registry, clock)
        self.vault = Vault(
            load_keyring(settings),
            # Keys from the environment are fixed for the process; a key file may be rotated.
            reload=None if settings.secret_keys else lambda: Keyring.load(settings.key_file),
        )
        self.guard = OutboundGuard(settings.outbound_allow, resolver, settings.outbound_client)
        self.events = RunEvents()
        self.metrics = Metrics()
        self.key_uses = KeyUses(self.store)
        self.connections = ConnectionService(
            self.store,
            self.vault,
            self.guard,
            clock,
            self.registry,
            settings,
            self.key_uses,
            transport=connector_transport,
        )
        self.connect_tokens = ConnectTokens(self.store, self.vault, self.key_uses, clock)
        self.authentication_events = AuthenticationEvents(
            self.store,
            self.vault,
            self.guard,
            clock,
            self.metrics,
            retry_base_seconds=settings.callback_retry_base_seconds,
            transport=callback_transport,
        )
        self.connections.on_event = self.authentication_events
        self.connections.on_refresh = lambda app, outcome: self.metrics.token_refreshes.labels(
            app, outcome
        ).inc()
        self.catalog = Catalog(
            self.registry, self.connections, action_timeout=settings.action_timeout
        )
        self.clients = ClientService(self.store, self.vault, clock, self.guard)
        self.signer = CallbackSigner(self.store, self.vault, settings.token_issuer, clock)
        self.runs = RunService(
            self.store, self.catalog, self.connections, self.events, settings, clock, self.metrics
        )
        self.executor = Executor(self.registry, self.connections, settings)
        self.attempts = AttemptLimits(self.store, clock)
        self.operators = OperatorService(self.store, self.runs, self.attempts, clock)
        self.rate_limits = ClientRateLimits(
            self.store,
            settings.rate_limit_per_minute,
            shared=self.store.runner.dialect != "sqlite",
            clock=clock,
        )
        self.request_counts = RequestCounter(self.store, clock)
        self._callback_transport = callback_transport
        self._tasks: list[asyncio.Task[None]] = []
        self._workers: list[Worker] = []
        self._dispatcher: CallbackDispatcher | None = None
        # Other processes share the database only on PostgreSQL; they hear each other there.
        self.bus: PostgresBus | None = None
        if self.store.runner.dialect == "postgresql":
            from actionruns.engine.bus import PostgresBus  # its driver: the postgresql extra

            self.bus = PostgresBus(settings.db_url, self.events)

    async def migrate(self) -> None:
        await upgrade(self.store)

    def new_worker(self, concurrency: int | None = None, only: list[str] | None = None) -> Worker:
        return Worker(
            self.store,
            self.executor,
            self.events,
            self.settings,
            self.clock,
            self.metrics,
            concurrency=concurrency,
            only=only,
        )

    async def start(self, *, workers: bool = True, concurrency: int | None = None) -> None:
        """Start the background loops: workers, callback deliveries and the retention purge."""
        await self.imports.sync()
        self._tasks.append(asyncio.create_task(self.imports.run(), name="imported-apps"))
        if self.bus is not None:
            await self.bus.start()
        if workers:
            worker = self.new_worker(concurrency)
            self._workers.append(worker)
            self.runs.local_worker = worker
            self._tasks.append(asyncio.create_task(worker.run(), name="worker"))
        self._dispatcher = CallbackDispatcher(
            self.store,
            self.vault,
            self.signer,
            self.guard,
            self.events,
            self.settings,
            self.clock,
            self.metrics,
            transport=self._callback_transport,
        )
        self._tasks.append(asyncio.create_task(self._dispatcher.run(), name="callbacks"))
        self._tasks.append(asyncio.create_task(self._purge_loop(), name="purge"))
        self._tasks.append(asyncio.create_task(self.request_counts.run(), name="request-counts"))
        if workers:
            self._tasks.append(asyncio.create_task(self._refresh_loop(), name="refresh"))

    async def _purge_loop(self) -> None:
        while True:
            try:
                deleted = await self.runs.purge()
                if deleted:
                    log.info("runs_purged", count=deleted)
                await self.store.purge_rate_windows(self.clock())
                await self.store.purge_used_tokens(self.clock())
            except Exception:
                log.exception("purge_failed")
            await asyncio.sleep(PURGE_INTERVAL_SECONDS)

    async def _refresh_loop(self) -> None:
        """Keep OAuth2 connections alive: refresh tokens before they expire, and daily."""
        while True:
            try:
                refreshed = await self.connections.refresh_due()
                if refreshed:
                    log.info("tokens_refreshed", count=refreshed)
            except Exception:
                log.exception("refresh_failed")
            await asyncio.sleep(REFRESH_INTERVAL_SECONDS)

    async def stop(self, grace: float | None = None) -> None:
        """Stop leasing, give in-flight attempts ``grace`` seconds, hand back the rest."""
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        self.runs.local_worker = None
        await asyncio.gather(*(worker.drain(grace) for worker in self._workers))
        await self.connections.finish_refreshes(grace)
        if self._dispatcher is not None:
            self._dispatcher.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._workers.clear()
        try:
            await self.request_counts.flush()
        except Exception:
            log.exception("request_counts_flush_failed")
        if self.bus is not None:
            await self.bus.close()
        await self.authentication_events.aclose()
        await self.guard.aclose()
        await self.store.close()
