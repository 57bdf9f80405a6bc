"""Airtable: create, update and find records; a table's fields become the action's fields.

Reference: https://airtable.com/developers/web/api/create-records (POST /v0/{baseId}/{table}
with ``{"fields", "typecast"}``), /update-record (PATCH /v0/{baseId}/{table}/{recordId}),
/list-records (``filterByFormula``, ``maxRecords``), /list-bases (``offset`` paging),
/get-base-schema (tables and their fields), /get-user-id-scopes (``whoami``); errors as
``{"error": {"type", "message"}}`` or ``{"error": "NOT_FOUND"}``, 429 for 30 seconds
(https://airtable.com/developers/web/api/rate-limits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

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

API = "https://api.airtable.com/v0"
_TYPES = {
    "multilineText": FieldType.TEXT,
    "richText": FieldType.TEXT,
    "number": FieldType.NUMBER,
    "currency": FieldType.NUMBER,
    "percent": FieldType.NUMBER,
    "rating": FieldType.INTEGER,
    "checkbox": FieldType.BOOLEAN,
    "date": FieldType.DATETIME,
    "dateTime": FieldType.DATETIME,
}
# Fields Airtable computes: they cannot be written.
_COMPUTED = {
    "formula", "rollup", "count", "lookup", "multipleLookupValues", "autoNumber",
    "createdTime", "lastModifiedTime", "createdBy", "lastModifiedBy", "button",
}  # fmt: skip
FIELD_PREFIX = "field_"


async def test_token(ctx: Context) -> str:
    me = await request_json(ctx, "GET", f"{API}/meta/whoami")
    return str(me.get("email") or me["id"])


async def base_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(offset: str | None) -> tuple[list[Choice], str | None]:
        params = {"offset": offset} if offset else None
        found = await request_json(ctx, "GET", f"{API}/meta/bases", params=params)
        return [Choice(base["id"], base["name"]) for base in found["bases"]], found.get("offset")

    return await cursor_page(fetch, page)


async def _tables(ctx: Context, base: str) -> list[dict[str, Any]]:
    return list((await request_json(ctx, "GET", f"{API}/meta/bases/{base}/tables"))["tables"])


async def table_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page or not inputs.get("base"):
        return ChoicePage([])
    tables = await _tables(ctx, inputs["base"])
    return ChoicePage([Choice(table["id"], table["name"]) for table in tables])


async def record_fields(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
    if not inputs.get("base") or not inputs.get("table"):
        return []
    table = next(
        (
            item
            for item in await _tables(ctx, inputs["base"])
            if inputs["table"] in (item["id"], item["name"])
        ),
        None,
    )
    if table is None:
        raise HaltError(f"The base has no table {inputs['table']!r}.")
    return [
        InputField(
            FIELD_PREFIX + spec["name"],
            spec["name"],
            _TYPES.get(spec["type"], FieldType.STRING),
            list=spec["type"] == "multipleSelects",
            choices=[
                Choice(option["name"]) for option in (spec.get("options") or {}).get("choices", [])
            ]
            if spec["type"] == "singleSelect"
            else (),
            help_text=spec.get("description") or f"{spec['type']} field",
        )
        for spec in table["fields"]
        if spec["type"] not in _COMPUTED
    ]


def _fields(inputs: Mapping[str, Any]) -> dict[str, Any]:
    fields = {
        key[len(FIELD_PREFIX) :]: value
        for key, value in inputs.items()
        if key.startswith(FIELD_PREFIX) and value is not None
    }
    if not fields:
        raise HaltError("Give a value for at least one field.")
    return fields


def _table_url(inputs: Mapping[str, Any]) -> str:
    return f"{API}/{inputs['base']}/{quote(str(inputs['table']), safe='')}"


def _record(record: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "created_time": record.get("createdTime"), **record["fields"]}


async def create_record(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body = {"fields": _fields(inputs), "typecast": True}
    return _record(await request_json(ctx, "POST", _table_url(inputs), json=body))


async def update_record(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body = {"fields": _fields(inputs), "typecast": True}
    url = f"{_table_url(inputs)}/{inputs['record_id']}"
    return _record(await request_json(ctx, "PATCH", url, json=body))


def formula_equals(field: str, value: str) -> str:
    """``{Field} = 'value'`` with the braces and quotes escaped as Airtable formulas want."""
    name = field.replace("}", "\\}")
    text = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"{{{name}}} = '{text}'"


async def find_record(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    params = {
        "filterByFormula": formula_equals(str(inputs["search_field"]), str(inputs["value"])),
        "maxRecords": "10",
    }
    found = await request_json(ctx, "GET", _table_url(inputs), params=params)
    return [_record(record) for record in found["records"]]


BASE = InputField(
    "base",
    "Base",
    required=True,
    dynamic_choices=base_choices,
    alters_dynamic_fields=True,
    help_text="The base.",
)
TABLE = InputField(
    "table",
    "Table",
    required=True,
    dynamic_choices=table_choices,
    depends_on=("base",),
    alters_dynamic_fields=True,
    help_text="A table of the base (its id or name).",
)
RECORD_OUTPUTS = [OutputField("id", "Record ID"), OutputField("created_time", "Created")]
RECORD_SAMPLE = {
    "id": "rec560UJdUtocSouk",
    "created_time": "2026-11-25T10:00:00.000Z",
    "Name": "Ada",
}

app = App(
    key="airtable",
    title="Airtable",
    description="Create, update and find records in Airtable bases.",
    auth=Auth.api_key(
        label="Personal access token",
        help_text="airtable.com/create/tokens, with data.records:read/write and "
        "schema.bases:read on the bases to use.",
    ),
    test=test_token,
    categories=("databases", "productivity"),
    actions=[
        Action(
            "create_record",
            "Create record",
            "Creates a record; one field per field of the table.",
            create_record,
            inputs=[
                BASE,
                TABLE,
                DynamicFields("fields", record_fields, depends_on=("base", "table")),
            ],
            outputs=RECORD_OUTPUTS,
            sample=RECORD_SAMPLE,
        ),
        Action(
            "update_record",
            "Update record",
            "Sets fields of a record; empty fields keep their value.",
            update_record,
            inputs=[
                BASE,
                TABLE,
                InputField("record_id", "Record ID", required=True, help_text="rec…"),
                DynamicFields("fields", record_fields, depends_on=("base", "table")),
            ],
            outputs=RECORD_OUTPUTS,
            sample=RECORD_SAMPLE,
        ),
        Action(
            "find_record",
            "Find record",
            "Finds records whose field equals a value (up to 10).",
            find_record,
            type=ActionType.SEARCH,
            inputs=[
                BASE,
                TABLE,
                InputField("search_field", "Field", required=True, help_text="Its name."),
                InputField("value", "Value", required=True, help_text="The value to match."),
            ],
            outputs=RECORD_OUTPUTS,
            sample=RECORD_SAMPLE,
        ),
    ],
)
