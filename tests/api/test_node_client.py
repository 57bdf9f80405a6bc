"""A client written for Zapier in Node, run with Node's own fetch against a live service."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ApiClient, Service

CLIENT = Path(__file__).parent / "node" / "zapier_client.mjs"


async def test_a_node_client_written_for_zapier_runs_an_action(
    service: Service, acme: ApiClient
) -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("node is not installed: under CI it must run", pytrace=False)
        pytest.skip("node is not installed")
    process = await asyncio.create_subprocess_exec(
        node,
        str(CLIENT),
        service.base_url,
        acme.client_id,
        acme.client_secret,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    run = json.loads(out)
    assert run["status"] == "success" and run["run_id"] == run["id"]
    assert run["results"] == [{"ok": True, "value": "from node", "count": None}]
