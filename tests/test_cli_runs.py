"""``actionruns runs list|show|tail``: the operator's view of runs, on both backends, run as
a separate process next to a serving one, as an operator would."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from tests.conftest import Service, ServiceFactory
from tests.processes import CLI, cli_environment


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def actionruns(service: Service, *arguments: str) -> tuple[int, str, str]:
    """``actionruns ARGUMENTS`` to its end: exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        *CLI,
        *arguments,
        env=cli_environment(service, COLUMNS="200"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def as_json(service: Service, *arguments: str) -> Any:
    code, stdout, stderr = await actionruns(service, *arguments, "--json")
    assert code == 0, stderr
    return json.loads(stdout)


async def test_runs_are_listed_and_shown_from_the_terminal(service: Service) -> None:
    acme, globex = await service.new_client("acme"), await service.new_client("globex")
    ok = await acme.run("testkit.noop", {})
    halting = {"key": uuid.uuid4().hex, "failures": 1, "mode": "halt"}
    halted = await acme.acting_for("bob").run("testkit.flaky", halting)
    theirs = await globex.run("testkit.noop", {})
    await acme.wait(ok)
    await acme.wait(halted)
    await globex.wait(theirs)

    everything = await as_json(service, "runs", "list")
    assert [run["id"] for run in everything["data"]] == [theirs, halted, ok]
    assert everything["data"][1]["client"] == acme.client_id
    assert everything["data"][1]["end_user"] == "bob"
    failed = await as_json(service, "runs", "list", "--status", "error")
    assert [run["id"] for run in failed["data"]] == [halted]
    first = await as_json(service, "runs", "list", "--client", "acme", "--limit", "1")
    assert [run["id"] for run in first["data"]] == [halted]
    rest = await as_json(
        service, "runs", "list", "--client", "acme", "--cursor", first["next_cursor"]
    )
    assert [run["id"] for run in rest["data"]] == [ok] and rest["next_cursor"] is None
    only_noop = await as_json(service, "runs", "list", "--action", "testkit.noop")
    assert [run["id"] for run in only_noop["data"]] == [theirs, ok]

    code, table, _ = await actionruns(service, "runs", "list", "--app", "testkit")
    assert code == 0 and halted in table and "testkit.flaky" in table and "error" in table

    shown = await as_json(service, "runs", "show", halted)
    assert shown["data"]["status"] == "error"
    [attempt] = shown["attempts"]
    assert (attempt["outcome"], attempt["error_class"]) == ("error", "user")
    code, detail, _ = await actionruns(service, "runs", "show", halted)
    assert code == 0 and "the record does not exist" in detail and "bob" in detail

    code, _, said = await actionruns(service, "runs", "show", "no-such-run")
    assert code == 1 and "No action run" in said
    code, _, said = await actionruns(service, "runs", "list", "--action", "noop")
    assert code == 2 and "app.action" in said


async def test_tail_follow_prints_each_run_as_it_finishes(start_service: ServiceFactory) -> None:
    service = await start_service()
    acme = await service.new_client("acme")
    earlier = await acme.run("testkit.noop", {})
    await acme.wait(earlier)
    follower = await asyncio.create_subprocess_exec(
        *CLI,
        "runs",
        "tail",
        "--follow",
        "--json",
        "-n",
        "1",
        env=cli_environment(service),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert follower.stdout is not None

    async def told() -> dict[str, Any]:
        assert follower.stdout is not None
        line = await asyncio.wait_for(follower.stdout.readline(), 60)
        assert line, (await follower.communicate())[1].decode()
        document: dict[str, Any] = json.loads(line)
        return document

    try:
        assert (await told())["id"] == earlier
        later = [await acme.run("testkit.noop", {"value": str(n)}) for n in range(3)]
        failing = {"key": uuid.uuid4().hex, "failures": 1, "mode": "halt"}
        later.append(await acme.run("testkit.flaky", failing))
        followed = [await told() for _ in later]
        assert sorted(run["id"] for run in followed) == sorted(later)
        assert {run["id"]: run["status"] for run in followed}[later[-1]] == "error"
    finally:
        follower.terminate()
        await follower.wait()
