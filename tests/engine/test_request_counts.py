"""API requests counted per client where they are served, added to the store in batches,
and summed across API nodes (on PostgreSQL two nodes share the database)."""

from __future__ import annotations

import dataclasses

from actionruns.engine.request_counts import KEPT_SECONDS
from actionruns.store.request_counts import RequestCount
from tests.conftest import ServiceFactory


async def test_requests_and_their_errors_are_counted_per_client_across_nodes(
    start_service: ServiceFactory, backend: str
) -> None:
    first = await start_service(workers=False)
    nodes = [first]
    if backend == "postgresql":  # on SQLite a second node would need the same file
        nodes.append(await start_service(workers=False, home=first.engine.settings.home))
    acme = await first.new_client("acme")
    globex = await first.new_client("globex")
    for node in nodes:
        here = dataclasses.replace(acme, service=node)
        assert (await here.get("/v2/apps")).status_code == 200
        assert (await here.get("/v2/action-runs/no-such-run")).status_code == 404
        assert (await node.http.get("/v2/apps", params={"client_id": globex.client_id})).is_success
    store, now = first.engine.store, first.clock()
    # Counted in memory: nothing is written on a request's path.
    assert await store.requests.by_client([acme.client_id], now - 60) == {}
    for node in nodes:
        await node.engine.request_counts.flush()
    counted = await store.requests.by_client([acme.client_id, globex.client_id], now - 60)
    assert counted == {
        acme.client_id: RequestCount(2 * len(nodes), len(nodes), 0),
        globex.client_id: RequestCount(len(nodes), 0, 0),
    }
    # A 5xx, and the minute it falls in: the hour's sum has it, a later window not.
    first.engine.request_counts.count(acme.client_id, 503)
    await first.engine.request_counts.flush()
    later = await store.requests.by_client([acme.client_id], now - 3600)
    assert later[acme.client_id].server_errors == 1
    first.clock.advance(KEPT_SECONDS + 120)
    assert await store.requests.by_client([acme.client_id], first.clock() - 60) == {}
    assert await store.requests.purge(first.clock() - KEPT_SECONDS) >= 1
    assert await store.requests.by_client([acme.client_id], 0) == {}
