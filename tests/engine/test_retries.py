"""How each kind of failure ends: retried, delayed, halted, expired; attempts recorded."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import ApiClient, Service


def key() -> str:
    return uuid.uuid4().hex


async def attempts(service: Service, run_id: str) -> list[str | None]:
    return [a.outcome for a in await service.engine.store.list_attempts(run_id)]


async def test_transient_failures_are_retried_until_success(
    service: Service, acme: ApiClient
) -> None:
    run_id = await acme.run("testkit.flaky", {"key": key(), "failures": 2, "mode": "transient"})
    run = await acme.wait(run_id)
    assert run["status"] == "success"
    assert run["attempts"] == 3
    assert run["results"] == [{"attempt": 3}]
    assert run["errors"] == []
    assert await attempts(service, run_id) == ["retry", "retry", "success"]


async def test_transient_failures_give_up_after_max_attempts(
    service: Service, acme: ApiClient
) -> None:
    run_id = await acme.run("testkit.flaky", {"key": key(), "failures": 5, "mode": "transient"})
    run = await acme.wait(run_id)
    assert run["status"] == "error"
    assert run["attempts"] == 3
    [error] = run["errors"]
    assert error["code"] == "partner"
    assert "gave up after 3 attempts" in error["detail"]
    assert await attempts(service, run_id) == ["retry", "retry", "error"]


async def test_throttled_is_retried_after_its_delay(service: Service, acme: ApiClient) -> None:
    run_id = await acme.run("testkit.flaky", {"key": key(), "failures": 1, "mode": "throttled"})
    pending = (await acme.get(f"/v2/action-runs/{run_id}")).json()["data"]
    run = await acme.wait(run_id)
    assert run["status"] == "success"
    assert run["attempts"] == 2
    attempts_ = await service.engine.store.list_attempts(run_id)
    assert attempts_[0].outcome == "retry"
    assert attempts_[0].error is not None and attempts_[0].error["code"] == "throttled"
    assert attempts_[0].error["delay"] == 1  # 0.2 s, rounded up to whole seconds
    # The second attempt starts no sooner than the delay the app asked for.
    assert attempts_[1].started_at - attempts_[0].finished_at >= 0.19  # type: ignore[operator]
    assert pending["status"] in ("queued", "running", "success")


async def test_timeouts_are_transient(service: Service, acme: ApiClient) -> None:
    run_id = await acme.run("testkit.flaky", {"key": key(), "failures": 1, "mode": "timeout"})
    run = await acme.wait(run_id)
    assert run["status"] == "success"
    [first, second] = await service.engine.store.list_attempts(run_id)
    assert first.outcome == "retry"
    assert first.error is not None and "did not finish within 0.5 seconds" in first.error["detail"]
    assert second.outcome == "success"


async def test_halt_is_final_and_never_retried(service: Service, acme: ApiClient) -> None:
    run_id = await acme.run("testkit.flaky", {"key": key(), "failures": 1, "mode": "halt"})
    run = await acme.wait(run_id)
    assert run["status"] == "error"
    assert run["attempts"] == 1
    assert run["errors"] == [
        {
            "code": "user",
            "title": "Action halted",
            "detail": "the record does not exist",
            "delay": 0,
            "meta": {},
        }
    ]


async def test_connector_bug_is_a_system_error_without_internals(acme: ApiClient) -> None:
    run_id = await acme.run("testkit.flaky", {"key": key(), "failures": 1, "mode": "crash"})
    run = await acme.wait(run_id)
    assert run["status"] == "error"
    [error] = run["errors"]
    assert error["code"] == "system"
    assert "bug in connector" not in error["detail"]


async def test_expired_credentials_mark_the_authentication_expired(
    service: Service, acme: ApiClient
) -> None:
    auth_id = await acme.connect("secretive", {"api_key": "good-key-123"})
    # The connector reports the key expired; the authentication must then say so.
    from tests import testkit

    original = testkit.secretive.actions[0].perform

    async def expired(ctx, inputs):  # type: ignore[no-untyped-def]
        from actionruns.sdk import ExpiredAuthError

        raise ExpiredAuthError("token revoked by the user")

    object.__setattr__(testkit.secretive.actions[0], "perform", expired)
    try:
        run = await acme.wait(await acme.run("secretive.echo", {}, authentication=auth_id))
    finally:
        object.__setattr__(testkit.secretive.actions[0], "perform", original)
    assert run["status"] == "error"
    assert run["errors"][0]["code"] == "authentication"
    listed = (await acme.get("/v2/authentications", params={"app": "secretive"})).json()["data"]
    assert listed[0]["is_expired"] is True
    # Further runs are refused up front with a clear reason.
    response = await acme.post(
        "/v2/action-runs",
        json={"data": {"action": "secretive.echo", "authentication": auth_id, "inputs": {}}},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"pointer": "/data/authentication"}


@pytest.mark.parametrize("fail", [False, True])
async def test_secrets_never_reach_results_errors_or_logs(
    service: Service, acme: ApiClient, fail: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-live-" + uuid.uuid4().hex
    auth_id = await acme.connect("secretive", {"api_key": secret})
    run = await acme.wait(await acme.run("secretive.echo", {"fail": fail}, authentication=auth_id))
    raw = (await acme.get(f"/v2/action-runs/{run['id']}")).text
    assert secret not in raw
    assert "[redacted]" in raw
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err
    assert "calling with token" in captured.out + captured.err
    for path in service.engine.settings.home.iterdir():  # the database, its WAL, the keys
        assert secret.encode() not in path.read_bytes(), path
