"""``actionruns mcp``: the catalogue as MCP tools over stdio, for a desktop agent, acting as
one client (optionally for one of its end users); runs are executed in this process."""

from __future__ import annotations

import logging

import typer

from actionruns.cli.common import principal, with_engine
from actionruns.engine import Engine
from actionruns.logs import configure_logging


def serve_mcp(
    client: str = typer.Option(..., "--client", help="Client name or id the agent acts as"),
    end_user: str = typer.Option(None, "--end-user", help="Act for this end user of the client"),
) -> None:
    """Serve the catalogue as MCP tools over stdin and stdout."""
    # Here, not with the CLI: the MCP SDK is 27 MiB and 1.3 s that no other command needs.
    from mcp.server.stdio import stdio_server

    from actionruns.api.mcp_tools import ActionTools, mcp_server

    configure_logging(level=logging.ERROR)  # stdout is the protocol's: logs go to stderr

    async def work(engine: Engine) -> None:
        acting = principal(await engine.clients.find(client), end_user)
        tools = ActionTools(engine, meta_tools=engine.settings.mcp_meta_tools)
        server = mcp_server(tools, lambda _request: acting)
        await engine.start(workers=True)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    with_engine(work)
