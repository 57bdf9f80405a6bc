"""Every connector with recorded HTTP fixtures, replayed: each case alone against its exact
requests, then every action run end to end through the API against the same recordings."""

from __future__ import annotations

import pytest

from actionruns.sdk.app import normalize_results
from actionruns.sdk.auth import AuthType
from actionruns.sdk.client_credentials import forget_tokens
from actionruns.sdk.fixtures import AppFixtures, ReplayTransport, load_fixtures, replay_app
from actionruns.sdk.registry import Registry
from tests.conftest import ServiceFactory

RECORDED = [
    fixtures for app in Registry.from_entry_points() if (fixtures := load_fixtures(app)) is not None
]


def _key(fixtures: AppFixtures) -> str:
    return fixtures.app.key


@pytest.mark.parametrize("fixtures", RECORDED, ids=_key)
async def test_every_recorded_case_replays(fixtures: AppFixtures) -> None:
    assert await replay_app(fixtures) == []


@pytest.mark.parametrize("fixtures", RECORDED, ids=_key)
async def test_every_action_runs_through_the_api(
    start_service: ServiceFactory, fixtures: AppFixtures
) -> None:
    app = fixtures.app
    vendor = ReplayTransport()
    service = await start_service(routes=dict.fromkeys(fixtures.hosts, vendor))
    acme = await service.new_client("acme")
    authentication = None
    if app.auth.type is not AuthType.NONE:
        vendor.extend(fixtures.connection_test)
        forget_tokens()
        authentication = await acme.connect(app.key, fixtures.credentials, title="recorded")

    succeeding = [c for c in fixtures.cases if c.error is None and c.choices_for is None]
    assert {case.action for case in succeeding} == {action.key for action in app.actions}
    # The app's rate limit spaces its runs' starts; each case is given its slot of time on the
    # service's clock, else every run would wait in the queue for it (limits are tested alone).
    rate = app.limits.rate if app.limits is not None else None
    for case in succeeding:
        if rate is not None:
            service.clock.advance(rate.seconds / rate.runs)
        vendor.extend(case.exchanges)
        forget_tokens()  # each case recorded its own token request, if the app asks for one
        run_id = await acme.run(f"{app.key}.{case.action}", case.inputs, authentication)
        run = await acme.wait(run_id)
        assert run["status"] == "success", (case.name, run)
        if case.result is not None:
            assert run["results"] == normalize_results(case.result), case.name
    assert vendor.problems == []
    assert vendor.exchanges == [], "recorded requests the runs never made"
