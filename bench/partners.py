"""``./scripts/bench partners``: what a partner developer or an AI agent is handed (issue 18).

- **The OpenAPI document**: operations in ``/openapi.json``, and how many document each
  success with a schema (a 204 has no body) and their errors in the API's error shape.
- **The MCP tool list** of the whole catalogue (every built-in and curated app, as a client
  with no allowlist sees it; with ``--home`` the apps and pieces imported there too): tools,
  and the size of the ``tools/list`` result in tokens, one tool per action and then with the
  meta tools (``ACTIONRUNS_MCP_META_TOOLS``).

Tokens are counted with OpenAI's cl100k_base and o200k_base vocabularies from ``bpe-openai``,
whose wheel ships them (tiktoken would fetch them from the internet). Built in-process, with
no service started: the document and the tools are what the service would serve.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import bpe_openai
import mcp_types

from actionruns.api.app import create_app
from actionruns.api.mcp_tools import ActionTools
from actionruns.config import Settings
from actionruns.engine import Engine
from actionruns.principal import Principal
from actionruns.sdk.registry import Registry

ENCODINGS = ("cl100k_base", "o200k_base")
ERROR_SCHEMA = "#/components/schemas/ErrorResponse"


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _documents_successes(operation: dict[str, Any]) -> bool:
    successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
    return bool(successes) and all(
        status == "204" or any("schema" in media for media in response.get("content", {}).values())
        for status, response in successes.items()
    )


def _documents_errors(operation: dict[str, Any]) -> bool:
    """Each error with its body's schema: the API's error shape (``/readyz``'s 503 is its
    own answer, with its own model)."""
    errors = [r for s, r in operation["responses"].items() if s[0] in "45"]
    return bool(errors) and all(
        any("schema" in media for media in response.get("content", {}).values())
        for response in errors
    )


def openapi_figures(engine: Engine) -> dict[str, Any]:
    document = create_app(engine, manage=False).openapi()
    operations = _operations(document)
    both = [
        f"{method.upper()} {path}"
        for method, path, operation in operations
        if _documents_successes(operation) and _documents_errors(operation)
    ]
    return {
        "operations": len(operations),
        "documented (each 2xx and each error with its schema)": len(both),
        "not": sorted(
            f"{method.upper()} {path}"
            for method, path, _ in operations
            if f"{method.upper()} {path}" not in both
        ),
        "error responses documented": sum(
            1 for _, _, op in operations for status in op["responses"] if status[0] in "45"
        ),
        "of them in the API's error shape": json.dumps(document["paths"]).count(ERROR_SCHEMA),
    }


CHUNK = 900_000  # bpe-openai encodes under a million characters at a time


def tokens(encoding: str, text: str) -> int:
    """Tokens of ``text``, encoded in pieces cut between two JSON objects (``},{``): a cut
    can change at most the token or two beside it, a few in all."""
    encoder = bpe_openai.get_encoding(encoding)
    total, start = 0, 0
    while len(text) - start > CHUNK:
        cut = text.rfind("},{", start, start + CHUNK) + 1 or start + CHUNK
        total += len(encoder.encode(text[start:cut]))
        start = cut
    return total + len(encoder.encode(text[start:]))


def tool_list_tokens(tools: list[mcp_types.Tool]) -> dict[str, int]:
    """The ``tools/list`` result as an MCP server sends it, in tokens of each vocabulary."""
    text = mcp_types.ListToolsResult(tools=tools).model_dump_json(by_alias=True, exclude_none=True)
    return {"bytes": len(text.encode()), **{name: tokens(name, text) for name in ENCODINGS}}


def mcp_figures(engine: Engine) -> dict[str, Any]:
    everyone = Principal(client_id="bench", scopes=frozenset({"action:run"}), allowed_apps=None)
    per_action = ActionTools(engine, meta_tools=False).tools(everyone)
    meta = ActionTools(engine, meta_tools=True).tools(everyone)
    apps = engine.catalog.apps(everyone)
    return {
        "apps": len(apps),
        "tools, one per action": len(per_action),
        "tokens, one per action": tool_list_tokens(per_action),
        "tools, meta-tool mode": len(meta),
        "tokens, meta-tool mode": tool_list_tokens(meta),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench partners", description=__doc__)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--home",
        type=Path,
        help="a service home whose imported apps and pieces join the catalogue "
        "(e.g. after actionruns pieces add --all-curated)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        engine = Engine(
            Settings(home=args.home or Path(scratch)), registry=Registry.from_entry_points()
        )
        if args.home:
            asyncio.run(engine.imports.sync())
        figures = {"openapi": openapi_figures(engine), "mcp": mcp_figures(engine)}
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
