"""Notion: create a database item (its properties become the action's fields), append text
to a page, find a database item.

Reference (API version ``Notion-Version: 2022-06-28``, sent on every request): create a page
https://developers.notion.com/reference/post-page (``parent.database_id``, ``properties``),
property values https://developers.notion.com/reference/page-property-values, the schema
https://developers.notion.com/reference/retrieve-a-database, append block children
https://developers.notion.com/reference/patch-block-children (at most 100 blocks a request),
query a database https://developers.notion.com/reference/post-database-query with a filter
https://developers.notion.com/reference/post-database-query-filter (a key named after the
property's type), search https://developers.notion.com/reference/post-search (``filter``
``{"value": "database", "property": "object"}``, ``start_cursor``/``next_cursor``), the bot
user https://developers.notion.com/reference/get-self; authorization
https://developers.notion.com/docs/authorization (an internal integration's secret as
``Authorization: Bearer``); errors https://developers.notion.com/reference/status-codes
(``{"object": "error", "status", "code", "message"}``; 409 ``conflict_error`` is worth a retry);
limits https://developers.notion.com/reference/request-limits (three requests a second on
average, 429 ``rate_limited`` with ``Retry-After`` in seconds; 2000 characters a rich text
object).
"""

from __future__ import annotations

import re
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
from actionruns.sdk.http import raise_for_status
from actionruns.sdk.pagination import cursor_page

API = "https://api.notion.com/v1"
HEADERS = {"Notion-Version": "2022-06-28"}
PROPERTY_PREFIX = "property_"
TEXT_LIMIT = 2000  # characters in one rich text object
BLOCKS_PER_REQUEST = 100
MAX_MATCHES = 10
_TYPES = {
    "number": FieldType.NUMBER,
    "checkbox": FieldType.BOOLEAN,
    "rich_text": FieldType.TEXT,
}
# Property types a user can write; the rest (formula, rollup, created_time…) Notion computes.
_WRITABLE = {
    "title", "rich_text", "number", "select", "multi_select", "status", "date", "checkbox",
    "url", "email", "phone_number",
}  # fmt: skip
_HELP = {
    "date": "ISO 8601 date or date and time, e.g. 2026-11-25 or 2026-11-25T10:00:00Z.",
    "multi_select": "Option names; a new name adds an option.",
    "checkbox": "true or false.",
    "url": "A web address.",
    "email": "An email address.",
    "phone_number": "A phone number.",
}
# How each property type is matched by "Find database item".
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
_ID = re.compile(r"([0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})$", re.I)


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    response = await ctx.http.request(method, f"{API}{path}", headers=HEADERS, **request)
    # 409 conflict_error: "the transaction could not be completed… try again".
    raise_for_status(response, transient=(408, 409))
    return response.json()


def notion_id(value: Any) -> str:
    """A page or database ID, also from its URL (the 32 hex digits that end its path)."""
    text = str(value).strip()
    found = _ID.search(text.split("?")[0].split("#")[0].rstrip("/"))
    return found.group(1) if found else text


async def test_token(ctx: Context) -> str:
    me = await _call(ctx, "GET", "/users/me")
    return str((me.get("bot") or {}).get("workspace_name") or me.get("name") or me["id"])


def _plain(rich: Sequence[Mapping[str, Any]]) -> str:
    return "".join(part.get("plain_text", "") for part in rich)


def rich_text(text: str) -> list[dict[str, Any]]:
    """Text as rich text objects of at most 2000 characters each."""
    return [
        {"type": "text", "text": {"content": text[start : start + TEXT_LIMIT]}}
        for start in range(0, len(text), TEXT_LIMIT)
    ] or [{"type": "text", "text": {"content": ""}}]


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


async def _schema(ctx: Context, database: Any) -> dict[str, Any]:
    path = f"/databases/{notion_id(database)}"
    found = await ctx.cached(("notion", path), lambda: _call(ctx, "GET", path))
    properties: dict[str, Any] = found["properties"]
    return properties


async def property_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page or not inputs.get("database"):
        return ChoicePage([])  # the schema comes whole
    schema = await _schema(ctx, inputs["database"])
    return ChoicePage(
        [
            Choice(name, f"{name} ({spec['type'].replace('_', ' ')})")
            for name, spec in schema.items()
            if spec["type"] in _FILTERS
        ]
    )


def _options(spec: Mapping[str, Any]) -> list[str]:
    return [option["name"] for option in (spec.get(spec["type"]) or {}).get("options", [])]


def _property_field(name: str, spec: Mapping[str, Any]) -> InputField:
    kind = spec["type"]
    help_text = _HELP.get(kind, f"{kind.replace('_', ' ')} property.")
    if kind == "select":
        options = ", ".join(_options(spec))
        help_text = f"Options: {options}; a new name adds an option." if options else help_text
    return InputField(
        PROPERTY_PREFIX + name,
        name,
        _TYPES.get(kind, FieldType.STRING),
        required=kind == "title",
        list=kind == "multi_select",
        choices=[Choice(option) for option in _options(spec)] if kind == "status" else (),
        help_text=help_text,
    )


async def property_fields(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
    if not inputs.get("database"):
        return []
    return [
        _property_field(name, spec)
        for name, spec in (await _schema(ctx, inputs["database"])).items()
        if spec["type"] in _WRITABLE
    ]


def property_value(kind: str, value: Any) -> dict[str, Any]:
    """An input as the Notion property value of its type."""
    if kind in ("title", "rich_text"):
        return {kind: rich_text(str(value))}
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
    database = notion_id(inputs["database"])
    schema = await _schema(ctx, database)
    properties = {
        name: property_value(spec["type"], inputs[PROPERTY_PREFIX + name])
        for name, spec in schema.items()
        if spec["type"] in _WRITABLE and inputs.get(PROPERTY_PREFIX + name) is not None
    }
    body = {"parent": {"database_id": database}, "properties": properties}
    return _page(await _call(ctx, "POST", "/pages", json=body))


def _paragraph(line: str) -> dict[str, Any]:
    return {"object": "block", "type": "paragraph", "paragraph": {"rich_text": rich_text(line)}}


async def append_to_page(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    page = notion_id(inputs["page_id"])
    children = [_paragraph(line) for line in str(inputs["text"]).splitlines() if line.strip()]
    if not children:
        raise HaltError("Give some text to append.")
    blocks: list[str] = []
    for start in range(0, len(children), BLOCKS_PER_REQUEST):
        batch = children[start : start + BLOCKS_PER_REQUEST]
        appended = await _call(ctx, "PATCH", f"/blocks/{page}/children", json={"children": batch})
        blocks.extend(block["id"] for block in appended["results"])
    return {"page_id": page, "blocks": blocks}


def _filter_value(kind: str, value: Any) -> Any:
    if kind == "number":
        try:
            number = float(str(value).strip())
        except ValueError:
            raise HaltError(f"{value!r} is not a number.") from None
        return int(number) if number.is_integer() else number
    if kind == "checkbox":
        return str(value).strip().lower() in ("true", "yes", "1", "on")
    return str(value)


async def find_database_item(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    database = notion_id(inputs["database"])
    schema = await _schema(ctx, database)
    name = str(inputs["property"])
    spec = schema.get(name)
    if spec is None or spec["type"] not in _FILTERS:
        raise HaltError(f"The database has no property {name!r} that can be matched.")
    kind = spec["type"]
    body = {
        "filter": {"property": name, kind: {_FILTERS[kind]: _filter_value(kind, inputs["value"])}},
        "page_size": MAX_MATCHES,
    }
    found = await _call(ctx, "POST", f"/databases/{database}/query", json=body)
    return [_page(page) for page in found["results"]]


DATABASE = InputField(
    "database",
    "Database",
    required=True,
    dynamic_choices=database_choices,
    alters_dynamic_fields=True,
    help_text="A database shared with the integration (or its ID or URL).",
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
        help_url="https://www.notion.so/my-integrations",
        help_steps=(
            "Open My integrations in Notion and create an internal integration.",
            "Copy its Internal Integration Secret.",
            "In Notion, share each page or database to use with the integration.",
        ),
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
                InputField(
                    "page_id",
                    "Page",
                    required=True,
                    help_text="The page's ID or URL; the page must be shared with the integration.",
                ),
                InputField(
                    "text",
                    "Text",
                    FieldType.TEXT,
                    required=True,
                    help_text="Plain text; each non-empty line becomes a paragraph.",
                ),
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
            "Finds up to 10 items whose property equals a value (contains it, for multi-select).",
            find_database_item,
            type=ActionType.SEARCH,
            inputs=[
                DATABASE,
                InputField(
                    "property",
                    "Property",
                    required=True,
                    dynamic_choices=property_choices,
                    depends_on=("database",),
                    help_text="The property to match (its name).",
                ),
                InputField("value", "Value", required=True, help_text="The value to match."),
            ],
            outputs=PAGE_OUTPUTS,
            sample=PAGE_SAMPLE,
        ),
    ],
)
