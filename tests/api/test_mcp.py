"""The MCP server, through the ``mcp`` SDK's own client: over streamable HTTP at ``/mcp``
(the partner's bearer token, optionally for an end user) and over stdio (``actionruns mcp``):
the tools list, a call that is a run, a failed run as a tool error, and the meta tools."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import ApiClient, Service, ServiceFactory


@asynccontextmanager
async def over_http(service: Service, headers: dict[str, str]) -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        transport = streamable_http_client(f"{service.base_url}/mcp", http_client=http)
        async with Client(transport) as client:
            yield client


def _tools(listed: types.ListToolsResult) -> dict[str, types.Tool]:
    return {tool.name: tool for tool in listed.tools}


async def test_each_action_is_a_tool_and_a_call_is_a_run(service: Service, acme: ApiClient) -> None:
    async with over_http(service, acme.acting_for("u-42").headers) as client:
        tools = _tools(await client.list_tools())
        noop = tools["testkit__noop"]
        assert noop.input_schema["properties"]["size"]["enum"] == ["s", "m", "l"]
        assert noop.input_schema["properties"]["count"]["type"] == "integer"
        assert noop.annotations is not None and noop.annotations.destructive_hint is True
        assert noop.output_schema is not None
        assert len(tools) == sum(len(app.actions) for app in service.engine.registry)

        result = await client.call_tool("testkit__noop", {"value": "x", "size": "m"})
        assert not result.is_error, result.content
        assert result.structured_content["status"] == "success"
        run = await service.engine.store.get_run(result.structured_content["run"])
        assert run is not None and run.end_user_id == "u-42"

        failed = await client.call_tool(
            "testkit__flaky", {"key": "mcp-halt", "failures": 9, "mode": "halt"}
        )
        assert failed.is_error
        text = failed.content[0]
        assert isinstance(text, types.TextContent) and "failed" in text.text


async def test_the_first_requests_at_once_all_wait_for_the_transport(
    service: Service, acme: ApiClient
) -> None:
    """The SDK is loaded at the first request (api.mcp_http): requests that come together
    before it has started are all answered once it has."""

    async def tool_count() -> int:
        async with over_http(service, acme.headers) as client:
            return len((await client.list_tools()).tools)

    counts = await asyncio.gather(*(tool_count() for _ in range(5)))
    assert counts == [sum(len(app.actions) for app in service.engine.registry)] * 5


async def test_mcp_over_http_needs_a_token_with_action_run(
    service: Service, acme: ApiClient
) -> None:
    refused = await service.http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "unauthorized"
    reader = await acme.with_scopes("zap")
    lacking = await service.http.post(
        "/mcp", headers=reader.headers, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}
    )
    assert lacking.status_code == 403


async def test_meta_tools_search_describe_and_run(start_service: ServiceFactory) -> None:
    service = await start_service(mcp_meta_tools=True)
    acme = await service.new_client("acme")
    async with over_http(service, acme.headers) as client:
        tools = _tools(await client.list_tools())
        assert set(tools) == {"search_actions", "get_action_inputs", "run_action"}
        found = await client.call_tool("search_actions", {"query": "test kit no-op"})
        assert [a["action"] for a in found.structured_content["actions"]] == ["testkit__noop"]
        inputs = await client.call_tool("get_action_inputs", {"action": "testkit__noop"})
        assert "value" in inputs.structured_content["input_schema"]["properties"]
        ran = await client.call_tool(
            "run_action", {"action": "testkit__noop", "inputs": {"value": "y"}}
        )
        assert ran.structured_content["status"] == "success"


async def test_actionruns_mcp_over_stdio(service: Service) -> None:
    """A desktop agent's way: the command, as a subprocess, acting as a client."""
    await service.engine.clients.create("desk")
    home = service.engine.settings.home
    environment = {
        "ACTIONRUNS_HOME": str(home),
        "ACTIONRUNS_OUTBOUND_ALLOW": "127.0.0.0/8",
        "PATH": os.environ.get("PATH", ""),
    }
    command = Path(sys.executable).with_name("actionruns")
    parameters = StdioServerParameters(
        command=str(command), args=["mcp", "--client", "desk"], env=environment
    )
    async with Client(parameters) as client:
        tools = _tools(await client.list_tools())
        assert "formatter__text" in tools
        annotations = tools["formatter__text"].annotations
        assert annotations is not None and annotations.read_only_hint is False
        result = await client.call_tool(
            "formatter__text", {"transform": "uppercase", "input": "hello"}
        )
        assert not result.is_error, result.content
        assert result.structured_content["results"][0]["output"] == "HELLO"
