"""Notion: create a database item (its properties become the action's fields), append text
to a page, find a database item.

Reference: https://developers.notion.com/reference/post-page (``parent.database_id``,
``properties``), https://developers.notion.com/reference/retrieve-a-database (the schema),
https://developers.notion.com/reference/page-property-values, https://developers.notion.com/reference/patch-block-children,
https://developers.notion.com/reference/post-database-query (``filter``: https://developers.notion.com/reference/post-database-query-filter),
https://developers.notion.com/reference/post-search (databases, ``start_cursor``),
https://developers.notion.com/reference/get-self; ``Notion-Version: 2022-06-28``; errors as
``{"object": "error", "status", "code", "message"}``, 429 ``rate_limited`` with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from actionruns.sdk import (
    Action,
    ActionType,
    App,
    Auth,
    Choice,
    ChoicePage,
    Context,
    DynamicFields,
    FieldType,
    HaltError,
    InputField,
    OutputField,
)
from actionruns.sdk.http import request_json
from actionruns.sdk.pagination import cursor_page

API = "https://api.notion.com/v1"
HEADERS = {"Notion-Version": "2022-06-28"}
PROPERTY_PREFIX = "property_"
_TYPES = {
    "number": FieldType.NUMBER,
    "checkbox": FieldType.BOOLEAN,
    "date": FieldType.DATETIME,
    "rich_text": FieldType.TEXT,
}
# Property types a user can write; the rest (formula, rollup, created_time…) Notion computes.
_WRITABLE = {
    "title", "rich_text", "number", "select", "multi_select", "status", "date", "checkbox",
    "url", "email", "phone_number",
}  # fmt: skip


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    return await request_json(ctx, method, f"{API}{path}", headers=HEADERS, **request)


async def test_token(ctx: Context) -> str:
    me = await _call(ctx, "GET", "/users/me")
    return str((me.get("bot") or {}).get("workspace_name") or me.get("name") or me["id"])


def _plain(rich: Sequence[Mapping[str, Any]]) -> str:
    return "".join(part.get("plain_text", "") for part in rich)


async def database_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(cursor: str | None) -> tuple[list[Choice], str | None]:
        body: dict[str, Any] = {
            "filter": {"value": "database", "property": "object"},
            "page_size": 100,
        }
        if cursor:
            body["start_cursor"] = cursor
        found = await _call(ctx, "POST", "/search", json=body)
        choices = [
            Choice(item["id"], _plain(item.get("title", [])) or item["id"])
            for item in found["results"]
        ]
        return choices, found.get("next_cursor") if found.get("has_more") else None

    return await cursor_page(fetch, page)


async def _schema(ctx: Context, database: str) -> dict[str, Any]:
    properties: dict[str, Any] = (await _call(ctx, "GET", f"/databases/{database}"))["properties"]
    return properties


def _options(spec: Mapping[str, Any]) -> list[Choice]:
    return [Choice(option["name"]) for option in (spec.get(spec["type"]) or {}).get("options", [])]


async def property_fields(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
    if not inputs.get("database"):
        return []
    return [
        InputField(
            PROPERTY_PREFIX + name,
            name,
            _TYPES.get(spec["type"], FieldType.STRING),
            required=spec["type"] == "title",
            list=spec["type"] == "multi_select",
            choices=_options(spec) if spec["type"] in ("select", "status") else (),
            help_text=f"{spec['type'].replace('_', ' ')} property",
        )
        for name, spec in (await _schema(ctx, inputs["database"])).items()
        if spec["type"] in _WRITABLE
    ]


def property_value(kind: str, value: Any) -> dict[str, Any]:
    """An input as the Notion property value of its type."""
    if kind in ("title", "rich_text"):
        return {kind: [{"type": "text", "text": {"content": str(value)}}]}
    if kind in ("select", "status"):
        return {kind: {"name": str(value)}}
    if kind == "multi_select":
        items = value if isinstance(value, list) else [value]
        return {kind: [{"name": str(item)} for item in items]}
    if kind == "date":
        return {kind: {"start": str(value)}}
    if kind == "checkbox":
        return {kind: bool(value)}
    if kind == "number":
        return {kind: value}
    return {kind: str(value)}  # url, email, phone_number


def simple_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """A page's property values as plain values."""
    simple: dict[str, Any] = {}
    for name, value in properties.items():
        kind = value.get("type")
        raw = value.get(kind)
        if kind in ("title", "rich_text"):
            simple[name] = _plain(raw or [])
        elif kind in ("select", "status"):
            simple[name] = (raw or {}).get("name")
        elif kind == "multi_select":
            simple[name] = [item["name"] for item in raw or []]
        elif kind == "date":
            simple[name] = (raw or {}).get("start")
        elif kind in ("number", "checkbox", "url", "email", "phone_number"):
            simple[name] = raw
    return simple


def _page(page: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": page["id"],
        "url": page.get("url"),
        "created_time": page.get("created_time"),
        **simple_properties(page.get("properties", {})),
    }


async def create_database_item(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    schema = await _schema(ctx, inputs["database"])
    properties = {
        name: property_value(spec["type"], inputs[PROPERTY_PREFIX + name])
        for name, spec in schema.items()
        if spec["type"] in _WRITABLE and inputs.get(PROPERTY_PREFIX + name) is not None
    }
    body = {"parent": {"database_id": inputs["database"]}, "properties": properties}
    return _page(await _call(ctx, "POST", "/pages", json=body))


async def append_to_page(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    children = [
        {
            "object": "block",
            "type": "paragraph",
            "paragraph": {"rich_text": [{"type": "text", "text": {"content": line}}]},
        }
        for line in str(inputs["text"]).splitlines()
        if line.strip()
    ]
    if not children:
        raise HaltError("Give some text to append.")
    appended = await _call(
        ctx, "PATCH", f"/blocks/{inputs['page_id']}/children", json={"children": children}
    )
    return {"page_id": inputs["page_id"], "blocks": [block["id"] for block in appended["results"]]}


_FILTERS = {
    "title": "equals",
    "rich_text": "equals",
    "number": "equals",
    "select": "equals",
    "status": "equals",
    "checkbox": "equals",
    "url": "equals",
    "email": "equals",
    "phone_number": "equals",
    "multi_select": "contains",
    "date": "equals",
}


async def find_database_item(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    schema = await _schema(ctx, inputs["database"])
    name = str(inputs["property"])
    spec = schema.get(name)
    if spec is None or spec["type"] not in _FILTERS:
        raise HaltError(f"The database has no property {name!r} that can be matched.")
    value: Any = inputs["value"]
    if spec["type"] == "number":
        value = float(value)
    elif spec["type"] == "checkbox":
        value = str(value).lower() in ("true", "yes", "1")
    body = {
        "filter": {"property": name, spec["type"]: {_FILTERS[spec["type"]]: value}},
        "page_size": 10,
    }
    found = await _call(ctx, "POST", f"/databases/{inputs['database']}/query", json=body)
    return [_page(page) for page in found["results"]]


DATABASE = InputField(
    "database",
    "Database",
    required=True,
    dynamic_choices=database_choices,
    alters_dynamic_fields=True,
    help_text="A database shared with the integration.",
)
PAGE_OUTPUTS = [
    OutputField("id", "Page ID"),
    OutputField("url", "URL"),
    OutputField("created_time", "Created", FieldType.DATETIME),
]
PAGE_SAMPLE = {
    "id": "59833787-2cf9-4fdf-8782-e53db20768a5",
    "url": "https://www.notion.so/Tuscan-kale-598337872cf94fdf8782e53db20768a5",
    "created_time": "2026-11-25T10:00:00.000Z",
    "Name": "Tuscan kale",
}

app = App(
    key="notion",
    title="Notion",
    description="Add items to Notion databases, append text to pages and find items.",
    auth=Auth.api_key(
        label="Integration secret",
        help_text="An internal integration's secret (notion.so/my-integrations); share the "
        "pages and databases with it.",
    ),
    test=test_token,
    categories=("productivity", "notes"),
    actions=[
        Action(
            "create_database_item",
            "Create database item",
            "Adds a page to a database; one field per property.",
            create_database_item,
            inputs=[
                DATABASE,
                DynamicFields("properties", property_fields, depends_on=("database",)),
            ],
            outputs=PAGE_OUTPUTS,
            sample=PAGE_SAMPLE,
        ),
        Action(
            "append_to_page",
            "Append to page",
            "Appends paragraphs (one per line) to the end of a page.",
            append_to_page,
            inputs=[
                InputField("page_id", "Page ID", required=True, help_text="From the page's URL."),
                InputField("text", "Text", FieldType.TEXT, required=True, help_text="Plain text."),
            ],
            outputs=[
                OutputField("page_id", "Page ID"),
                OutputField("blocks", "Block IDs", FieldType.JSON),
            ],
            sample={
                "page_id": "59833787-2cf9-4fdf-8782-e53db20768a5",
                "blocks": ["c02fc1d3-db8b-45c5-a222-27595b15aea7"],
            },
        ),
        Action(
            "find_database_item",
            "Find database item",
            "Finds items whose property equals a value (contains, for multi-select).",
            find_database_item,
            type=ActionType.SEARCH,
            inputs=[
                DATABASE,
                InputField("property", "Property", required=True, help_text="Its name."),
                InputField("value", "Value", required=True, help_text="The value to match."),
            ],
            outputs=PAGE_OUTPUTS,
            sample=PAGE_SAMPLE,
        ),
    ],
)
