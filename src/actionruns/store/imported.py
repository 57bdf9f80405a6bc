"""Imported apps: each app's manifest, and a revision every node compares with its own copy."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, insert, select, update

from actionruns.store.engines import Runner
from actionruns.store.records import ImportedAppRecord
from actionruns.store.schema import imported_apps

_REVISIONS = select(imported_apps.c.key, imported_apps.c.revision)


class ImportedApps:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    async def revisions(self) -> dict[str, int]:
        """Every imported app's revision, by key: a small read, made often."""
        return await self.runner.read(
            lambda conn: {row.key: row.revision for row in conn.execute(_REVISIONS)}
        )

    async def get(self, keys: Sequence[str]) -> list[ImportedAppRecord]:
        query = select(imported_apps).where(imported_apps.c.key.in_(list(keys)))
        return await self.runner.read(
            lambda conn: [ImportedAppRecord.from_row(row) for row in conn.execute(query)]
        )

    async def save(self, key: str, manifest: str, source_sha256: str, now: float) -> int:
        """Store an app's manifest, new or upgraded; its new revision."""

        def work(conn: Connection) -> int:
            values = {"manifest": manifest, "source_sha256": source_sha256, "updated_at": now}
            revision = conn.execute(
                update(imported_apps)
                .where(imported_apps.c.key == key)
                .values(revision=imported_apps.c.revision + 1, **values)
                .returning(imported_apps.c.revision)
            ).scalar()
            if revision is not None:
                return int(revision)
            conn.execute(
                insert(imported_apps).values(key=key, revision=1, created_at=now, **values)
            )
            return 1

        return await self.runner.write(work)

    async def delete(self, key: str) -> bool:
        statement = delete(imported_apps).where(imported_apps.c.key == key)
        return await self.runner.write(lambda conn: conn.execute(statement).rowcount > 0)
