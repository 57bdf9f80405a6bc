"""Imported apps in this process's registry, kept in step with the database.

An import (on any node, or the command line) stores the app's manifest with a new revision.
Every process compares the revisions with its own copies now and then (a small read), and
loads what changed: an app imported, upgraded or removed anywhere is served everywhere
within ``SYNC_SECONDS``, without a restart (a worker leases only runs of the apps it has, so
a run of an app imported a moment ago waits for its next look, never fails).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from actionruns.errors import Conflict, NotFound
from actionruns.sdk.app import App
from actionruns.sdk.described import AppManifest, build_app
from actionruns.sdk.registry import Registry
from actionruns.store import Store

log = structlog.get_logger(__name__)

SYNC_SECONDS = 2.0


@dataclass(frozen=True)
class ImportedApp:
    key: str
    revision: int
    manifest: AppManifest
    created_at: float
    updated_at: float


def _build(text: str) -> tuple[AppManifest, App]:
    manifest = AppManifest.model_validate_json(text)
    return manifest, build_app(manifest)


class AppImports:
    def __init__(self, store: Store, registry: Registry, clock: Callable[[], float]) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        # Apps that did not come from the database: an import may not take their keys.
        self.builtin = frozenset(registry.keys)
        self._revisions: dict[str, int] = {}
        self._lock = asyncio.Lock()

    async def sync(self) -> bool:
        """Load what changed in the database since the last look; whether anything did."""
        async with self._lock:
            stored = await self.store.imported_apps.revisions()
            changed = [k for k, revision in stored.items() if self._revisions.get(k) != revision]
            gone = [key for key in self._revisions if key not in stored]
            for key in gone:
                self.registry.remove(key)
                del self._revisions[key]
            for record in await self.store.imported_apps.get(changed) if changed else ():
                await self._install(record.key, record.revision, record.manifest)
            return bool(changed or gone)

    async def _install(self, key: str, revision: int, text: str) -> None:
        self._revisions[key] = revision
        if key in self.builtin:
            log.error("imported_app_shadows_connector", app=key)
            return
        try:
            # Off the event loop: a large API's app takes a while to build.
            _, app = await asyncio.to_thread(_build, text)
        except Exception:
            # A manifest this release cannot read, or whose hook module is missing here.
            log.exception("imported_app_load_failed", app=key, revision=revision)
            return
        self.registry.put(app)

    async def run(self) -> None:
        """Keep in step until cancelled."""
        while True:
            await asyncio.sleep(SYNC_SECONDS)
            try:
                await self.sync()
            except Exception:
                log.exception("imported_apps_sync_failed")

    async def save(self, manifest: AppManifest) -> tuple[int, AppManifest | None]:
        """Store an app (new, or an upgrade keeping its key, id and authentications) and serve
        it here at once; its revision and the manifest it replaced."""
        if manifest.key in self.builtin:
            raise Conflict(
                f"{manifest.key} is the key of a built-in app: import under another (--key)."
            )
        build_app(manifest)  # what cannot be served is not stored
        previous = await self.get(manifest.key)
        text = manifest.model_dump_json()
        revision = await self.store.imported_apps.save(
            manifest.key, text, manifest.source.sha256, self.clock()
        )
        async with self._lock:
            await self._install(manifest.key, revision, text)
        return revision, previous.manifest if previous is not None else None

    async def remove(self, key: str) -> None:
        if not await self.store.imported_apps.delete(key):
            raise NotFound(f"No imported app {key!r}.")
        async with self._lock:
            self.registry.remove(key)
            self._revisions.pop(key, None)

    async def get(self, key: str) -> ImportedApp | None:
        found = await self._read([key])
        return found[0] if found else None

    async def all(self) -> list[ImportedApp]:
        return await self._read(sorted(await self.store.imported_apps.revisions()))

    async def _read(self, keys: list[str]) -> list[ImportedApp]:
        records = await self.store.imported_apps.get(keys) if keys else []
        return sorted(
            (
                ImportedApp(
                    record.key,
                    record.revision,
                    AppManifest.model_validate_json(record.manifest),
                    record.created_at,
                    record.updated_at,
                )
                for record in records
            ),
            key=lambda app: app.key,
        )
