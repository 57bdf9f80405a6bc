"""The catalogue as MCP tools (official ``mcp`` SDK), for AI agents.

One tool per action the caller may use, named ``app__action``, its input schema made from the
action's fields and its output schema from its output fields; or, for catalogues too large
for one tool list (``ACTIONRUNS_MCP_META_TOOLS``), three meta tools: ``search_actions``,
``get_action_inputs`` and ``run_action``. A tool call is an action run, idempotent per MCP
request, waited for; a failed run is a tool error the model can read.

Over stdio (``actionruns mcp``) the caller is fixed when the server starts; over HTTP
(``/mcp``) it is the principal of the request's bearer token (``mcp_http``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext

from actionruns import __version__
from actionruns.engine import Engine
from actionruns.engine.documents import run_document
from actionruns.engine.runs import RunRequest
from actionruns.errors import ServiceError
from actionruns.principal import Principal
from actionruns.sdk.app import Action, App
from actionruns.sdk.app import ActionType as Kind
from actionruns.sdk.auth import AuthType
from actionruns.sdk.fields import FieldType, InputField, OutputField

SEPARATOR = "__"
RUN_WAIT_SECONDS = 55.0
SEARCH_RESULTS = 20
_JSON_TYPES = {
    FieldType.INTEGER: "integer",
    FieldType.NUMBER: "number",
    FieldType.BOOLEAN: "boolean",
    FieldType.DICT: "object",
}
_READ_ONLY = {Kind.READ, Kind.SEARCH}
AUTHENTICATION_PROPERTY = {
    "type": "string",
    "description": "The id of a connected account (authentication) for the app",
}


def tool_name(app: App, action: Action) -> str:
    return f"{app.key}{SEPARATOR}{action.key}"


def field_schema(spec: InputField) -> dict[str, Any]:
    """A field as JSON Schema: its type (any JSON for a json field), static choices as an
    enum, and its help as the description."""
    item: dict[str, Any] = {}
    if spec.type is FieldType.JSON:
        pass
    elif spec.type in _JSON_TYPES:
        item["type"] = _JSON_TYPES[spec.type]
    else:
        item["type"] = "string"
        if spec.type is FieldType.DATETIME:
            item["format"] = "date-time"
    if spec.choices:
        item["enum"] = [choice.value for choice in spec.choices]
    schema = {"type": "array", "items": item} if spec.list else item
    description = " ".join(part for part in (spec.label, spec.help_text) if part)
    if spec.default is not None:
        schema["default"] = spec.default
    return {**schema, "description": description}


def input_schema(app: App, action: Action) -> dict[str, Any]:
    fields = action.static_inputs
    properties = {spec.key: field_schema(spec) for spec in fields}
    required = [spec.key for spec in fields if spec.required]
    if app.auth.type is not AuthType.NONE:
        properties["authentication"] = AUTHENTICATION_PROPERTY
    # An action with dynamic fields takes more than its static ones.
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if not action.has_dynamic_inputs:
        schema["additionalProperties"] = False
    return schema


def output_schema(outputs: Iterable[OutputField]) -> dict[str, Any]:
    """What a run's result holds: its id, status, and the action's results (each with the
    output fields, by their top-level keys)."""
    fields = {spec.key.split(".")[0]: {"description": spec.label} for spec in outputs if spec.key}
    result = {"type": "object", "properties": fields}
    return {
        "type": "object",
        "properties": {
            "run": {"type": "string", "description": "The run's id"},
            "status": {"type": "string", "enum": ["queued", "running", "success", "error"]},
            "results": {"type": "array", "items": result},
        },
        "required": ["run", "status", "results"],
    }


def action_tool(app: App, action: Action) -> types.Tool:
    read_only = action.type in _READ_ONLY
    return types.Tool(
        name=tool_name(app, action),
        title=f"{app.title}: {action.title}",
        description=action.description or action.title,
        input_schema=input_schema(app, action),
        output_schema=output_schema(action.outputs),
        annotations=types.ToolAnnotations(
            read_only_hint=read_only, destructive_hint=not read_only, idempotent_hint=read_only
        ),
    )


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


ACTION_PROPERTY = {"type": "string", "description": "app__action, as search_actions names it"}
META_TOOLS = [
    types.Tool(
        name="search_actions",
        description="Find actions in the catalogue by words in their app, title or description.",
        input_schema=_object({"query": {"type": "string"}}, ["query"]),
        annotations=types.ToolAnnotations(read_only_hint=True),
    ),
    types.Tool(
        name="get_action_inputs",
        description="The input schema of an action, with the fields that depend on others "
        "(give those inputs and an authentication to see them).",
        input_schema=_object(
            {
                "action": ACTION_PROPERTY,
                "inputs": {"type": "object"},
                "authentication": AUTHENTICATION_PROPERTY,
            },
            ["action"],
        ),
        annotations=types.ToolAnnotations(read_only_hint=True),
    ),
    types.Tool(
        name="run_action",
        description="Run an action with its inputs and return its result.",
        input_schema=_object(
            {
                "action": ACTION_PROPERTY,
                "inputs": {"type": "object"},
                "authentication": AUTHENTICATION_PROPERTY,
            },
            ["action", "inputs"],
        ),
        annotations=types.ToolAnnotations(read_only_hint=False, destructive_hint=True),
    ),
]


class ActionTools:
    """The tools of a principal, and their calls, over the engine."""

    def __init__(self, engine: Engine, *, meta_tools: bool) -> None:
        self.engine = engine
        self.meta_tools = meta_tools

    def tools(self, principal: Principal) -> list[types.Tool]:
        if self.meta_tools:
            return META_TOOLS
        return [
            action_tool(app, action)
            for app in self.engine.catalog.apps(principal)
            for action in app.actions
        ]

    def _action(self, principal: Principal, name: str) -> tuple[App, Action]:
        return self.engine.catalog.action(principal, name.replace(SEPARATOR, ".", 1))

    async def call(
        self, principal: Principal, name: str, arguments: dict[str, Any], request_id: str
    ) -> types.CallToolResult:
        try:
            if not self.meta_tools:
                inputs = dict(arguments)
                authentication = inputs.pop("authentication", None)
                return await self._run(principal, name, inputs, authentication, request_id)
            if name == "search_actions":
                return _result({"actions": self._search(principal, str(arguments["query"]))})
            if name == "get_action_inputs":
                return await self._inputs(principal, arguments)
            if name == "run_action":
                action = str(arguments["action"])
                inputs = dict(arguments.get("inputs") or {})
                authentication = arguments.get("authentication")
                return await self._run(principal, action, inputs, authentication, request_id)
        except ServiceError as exc:
            return _error(exc.detail)
        except KeyError as exc:
            return _error(f"The argument {exc.args[0]} is required.")
        return _error(f"There is no tool {name!r}.")

    def _search(self, principal: Principal, query: str) -> list[dict[str, Any]]:
        words = query.lower().split()
        found = []
        for app in self.engine.catalog.apps(principal):
            for action in app.actions:
                text = f"{app.key} {app.title} {action.key} {action.title} {action.description}"
                if all(word in text.lower() for word in words):
                    found.append(
                        {
                            "action": tool_name(app, action),
                            "title": f"{app.title}: {action.title}",
                            "description": action.description,
                            "read_only": action.type in _READ_ONLY,
                        }
                    )
        return found[:SEARCH_RESULTS]

    async def _inputs(
        self, principal: Principal, arguments: dict[str, Any]
    ) -> types.CallToolResult:
        action_ref = str(arguments["action"]).replace(SEPARATOR, ".", 1)
        app, action, fields = await self.engine.catalog.input_fields(
            principal, action_ref, arguments.get("authentication"), arguments.get("inputs") or {}
        )
        schema = input_schema(app, action)
        schema["properties"] = {spec.key: field_schema(spec) for spec in fields}
        return _result({"action": tool_name(app, action), "input_schema": schema})

    async def _run(
        self,
        principal: Principal,
        name: str,
        inputs: dict[str, Any],
        authentication: Any,
        request_id: str,
    ) -> types.CallToolResult:
        app, action = self._action(principal, name)
        request = RunRequest(
            f"{app.key}.{action.key}",
            authentication if isinstance(authentication, str) else None,
            inputs,
        )
        # The same MCP request sent again (a client's retry) is the same run.
        key = hashlib.sha256(f"mcp\x00{name}\x00{request_id}".encode()).hexdigest()
        run, _ = await self.engine.runs.submit(principal, request, key)
        run = await self.engine.runs.wait(principal, run.id, RUN_WAIT_SECONDS)
        document = run_document(run)
        if run.status == "error":
            details = "; ".join(error["detail"] for error in document["errors"])
            return _error(f"The run {run.id} failed: {details}", document)
        body = {"run": run.id, "status": run.status, "results": document["results"]}
        return _result(body)


def _result(body: dict[str, Any]) -> types.CallToolResult:
    text = json.dumps(body, separators=(",", ":"), default=str)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=body
    )


def _error(detail: str, run: dict[str, Any] | None = None) -> types.CallToolResult:
    text = detail if run is None else f"{detail}\n{json.dumps(run, default=str)}"
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def mcp_server(tools: ActionTools, principal_of: Callable[[Any], Principal]) -> Server[Any]:
    """An MCP server over ``tools``; ``principal_of`` gives the caller of a request from its
    transport's request (the HTTP request, or None over stdio)."""

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], _params: Any
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools.tools(principal_of(ctx.request)))

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        principal = principal_of(ctx.request)
        return await tools.call(principal, params.name, params.arguments or {}, str(ctx.request_id))

    return Server(
        "actionruns",
        version=__version__,
        instructions="Each tool runs one action in another app for the user.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
