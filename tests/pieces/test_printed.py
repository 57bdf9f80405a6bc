"""What a piece prints: kept per call, with the call's secrets redacted as its result is,
logged at debug under the run's id and kept with the attempt (``GET …/attempts``)."""

from __future__ import annotations

from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.printed import CUT, MAX_PRINTED_CHARACTERS
from tests.conftest import ServiceFactory
from tests.engine.test_run_events import capture_every_level

SECRET = "good-key"  # the fixture piece's connection test takes this key alone


async def test_what_a_piece_prints_is_logged_and_kept_with_its_secrets_redacted(
    start_service: ServiceFactory, fixture_manifest: AppManifest
) -> None:
    service = await start_service()
    await service.engine.imports.save(fixture_manifest)
    acme = await service.new_client("acme")
    connection = await acme.connect("fixture", {"api_key": SECRET, "region": "eu"})
    with capture_every_level() as events:
        run_id = await acme.run("fixture.chatty", {}, authentication=connection)
        run = await acme.wait(run_id)
    assert run["status"] == "success", run

    response = await acme.get(f"/v2/action-runs/{run_id}/attempts")
    assert response.status_code == 200, response.text
    assert SECRET not in response.text
    (attempt,) = response.json()["data"]
    assert [line["level"] for line in attempt["logs"]] == [
        "info",
        "warning",
        "error",
        "info",
        "debug",
    ]
    texts = [line["text"] for line in attempt["logs"]]
    assert texts[0] == "connecting with key [redacted]"
    assert "apiKey: '[redacted]'" in texts[1] and "region: 'eu'" in texts[1]
    assert texts[2] == "refused: Bearer [redacted]"
    assert texts[3].startswith("raw ") and "[redacted]" in texts[3]  # base64 of user:key
    assert texts[4] == "done"

    logged = [event for event in events if event["event"] == "piece_printed"]
    assert [(event["level"], event["text"]) for event in logged] == [
        (line["level"], line["text"]) for line in attempt["logs"]
    ]
    assert {event["run_id"] for event in logged} == {run_id}
    assert SECRET not in repr(events)


async def test_an_attempt_keeps_only_so_much_of_what_was_printed(
    start_service: ServiceFactory, fixture_manifest: AppManifest
) -> None:
    service = await start_service()
    await service.engine.imports.save(fixture_manifest)
    acme = await service.new_client("acme")
    connection = await acme.connect("fixture", {"api_key": SECRET})
    run_id = await acme.run("fixture.chatty", {"lines": 100}, authentication=connection)
    assert (await acme.wait(run_id))["status"] == "success"
    (attempt,) = (await acme.get(f"/v2/action-runs/{run_id}/attempts")).json()["data"]
    *kept, last = attempt["logs"]
    assert last == {"level": "warning", "text": CUT}
    assert sum(len(line["text"]) for line in kept) == MAX_PRINTED_CHARACTERS
