"""Airtable: create, update and find records; a table's fields become the action's fields.

Reference (https://airtable.com/developers/web/api/introduction): create a record
https://airtable.com/developers/web/api/create-records (POST /v0/{baseId}/{tableIdOrName}
with ``{"fields", "typecast"}``), update a record
https://airtable.com/developers/web/api/update-record (PATCH
/v0/{baseId}/{tableIdOrName}/{recordId}: only the fields given change), list records
https://airtable.com/developers/web/api/list-records (``filterByFormula``, ``maxRecords``;
formulas https://support.airtable.com/docs/formula-field-reference), the bases
https://airtable.com/developers/web/api/list-bases (``offset`` paging), a base's tables and
their fields https://airtable.com/developers/web/api/get-base-schema (field types
https://airtable.com/developers/web/api/field-model), the token's user
https://airtable.com/developers/web/api/get-user-id-scopes (``/v0/meta/whoami``);
authentication https://airtable.com/developers/web/api/authentication (a personal access
token as ``Authorization: Bearer``); errors https://airtable.com/developers/web/api/errors
(``{"error": {"type", "message"}}``, or ``{"error": "NOT_FOUND"}``); rate limits
https://airtable.com/developers/web/api/rate-limits (5 requests a second per base: 429 with
``{"errors": [{"error": "RATE_LIMIT_REACHED", "message"}]}``, no ``Retry-After``, and 30
seconds to wait).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx2

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
from actionruns.sdk.http import error_message, raise_for_status
from actionruns.sdk.pagination import cursor_page

API = "https://api.airtable.com/v0"
THROTTLE_SECONDS = 30.0  # "you will need to wait 30 seconds before subsequent requests"
MAX_MATCHES = 10
FIELD_PREFIX = "field_"
_TYPES = {
    "multilineText": FieldType.TEXT,
    "richText": FieldType.TEXT,
    "number": FieldType.NUMBER,
    "currency": FieldType.NUMBER,
    "percent": FieldType.NUMBER,
    "duration": FieldType.NUMBER,
    "rating": FieldType.INTEGER,
    "checkbox": FieldType.BOOLEAN,
    "dateTime": FieldType.DATETIME,
}
_HELP = {
    "date": "A date, YYYY-MM-DD.",
    "dateTime": "A date and time (ISO 8601).",
    "duration": "In seconds.",
    "checkbox": "true or false.",
    "multipleSelects": "Option names; with typecast a new name adds an option.",
    "multipleRecordLinks": "IDs (rec…) of the linked records.",
    "email": "An email address.",
    "url": "A web address.",
    "phoneNumber": "A phone number.",
}
# Fields Airtable computes, and fields whose values are objects this action does not build
# (attachments, collaborators, barcodes): they are left out of the form.
_SKIPPED = {
    "formula", "rollup", "count", "lookup", "multipleLookupValues", "autoNumber",
    "createdTime", "lastModifiedTime", "createdBy", "lastModifiedBy", "button",
    "externalSyncSource", "aiText", "multipleAttachments", "singleCollaborator",
    "multipleCollaborators", "barcode",
}  # fmt: skip


def _message(response: httpx2.Response) -> str:
    """Airtable's message with its error type, e.g. "… (INVALID_VALUE_FOR_COLUMN)"."""
    try:
        body: Any = response.json()
    except ValueError:
        return error_message(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return f"{error['message']} ({error.get('type', 'error')})"
    if isinstance(error, str):  # {"error": "NOT_FOUND"}
        return f"{error}: check the base, the table and the record ID."
    return error_message(response)


async def _call(ctx: Context, method: str, url: str, **request: Any) -> Any:
    response = await ctx.http.request(method, url, **request)
    if response.status_code >= 400:
        raise_for_status(response, message=_message(response), throttle_delay=THROTTLE_SECONDS)
    return response.json()


async def test_token(ctx: Context) -> str:
    me = await _call(ctx, "GET", f"{API}/meta/whoami")
    return str(me.get("email") or me["id"])  # the email comes with the user.email:read scope


async def base_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(offset: str | None) -> tuple[list[Choice], str | None]:
        params = {"offset": offset} if offset else None
        found = await _call(ctx, "GET", f"{API}/meta/bases", params=params)
        return [Choice(base["id"], base["name"]) for base in found["bases"]], found.get("offset")

    return await cursor_page(fetch, page)


async def _tables(ctx: Context, base: str) -> list[dict[str, Any]]:
    return list((await _call(ctx, "GET", f"{API}/meta/bases/{base}/tables"))["tables"])


async def table_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page or not inputs.get("base"):
        return ChoicePage([])  # the base's schema comes whole
    tables = await _tables(ctx, inputs["base"])
    return ChoicePage([Choice(table["id"], table["name"]) for table in tables])


async def _table(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    for table in await _tables(ctx, inputs["base"]):
        if inputs["table"] in (table["id"], table["name"]):
            return table
    raise HaltError(f"The base has no table {inputs['table']!r}.")


async def field_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page or not inputs.get("base") or not inputs.get("table"):
        return ChoicePage([])
    table = await _table(ctx, inputs)
    return ChoicePage([Choice(spec["name"]) for spec in table["fields"]])


def _record_field(spec: Mapping[str, Any]) -> InputField:
    kind = spec["type"]
    help_text = spec.get("description") or _HELP.get(kind, f"{kind} field.")
    if kind == "singleSelect":
        options = ", ".join(
            option["name"] for option in (spec.get("options") or {}).get("choices", [])
        )
        help_text = f"Options: {options}; a new name adds an option." if options else help_text
    return InputField(
        FIELD_PREFIX + spec["name"],
        spec["name"],
        _TYPES.get(kind, FieldType.STRING),
        list=kind in ("multipleSelects", "multipleRecordLinks"),
        help_text=help_text,
    )


async def record_fields(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
    if not inputs.get("base") or not inputs.get("table"):
        return []
    table = await _table(ctx, inputs)
    return [_record_field(spec) for spec in table["fields"] if spec["type"] not in _SKIPPED]


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
    return _record(await _call(ctx, "POST", _table_url(inputs), json=body))


async def update_record(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body = {"fields": _fields(inputs), "typecast": True}
    url = f"{_table_url(inputs)}/{quote(str(inputs['record_id']).strip(), safe='')}"
    return _record(await _call(ctx, "PATCH", url, json=body))


def formula_equals(field: str, value: str) -> str:
    """``{Field} = 'value'`` with the braces and quotes escaped as Airtable formulas want."""
    name = field.replace("}", "\\}")
    text = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"{{{name}}} = '{text}'"


async def find_record(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    params = {
        "filterByFormula": formula_equals(str(inputs["search_field"]), str(inputs["value"])),
        "maxRecords": str(MAX_MATCHES),
    }
    found = await _call(ctx, "GET", _table_url(inputs), params=params)
    return [_record(record) for record in found["records"]]


BASE = InputField(
    "base",
    "Base",
    required=True,
    dynamic_choices=base_choices,
    alters_dynamic_fields=True,
    help_text="A base the token may use.",
)
TABLE = InputField(
    "table",
    "Table",
    required=True,
    dynamic_choices=table_choices,
    depends_on=("base",),
    alters_dynamic_fields=True,
    help_text="A table of the base (its ID or name).",
)
FIELDS = DynamicFields("fields", record_fields, depends_on=("base", "table"))
RECORD_OUTPUTS = [
    OutputField("id", "Record ID"),
    OutputField("created_time", "Created", FieldType.DATETIME),
]
RECORD_SAMPLE = {
    "id": "rec560UJdUtocSouk",
    "created_time": "2026-11-25T10:00:00.000Z",
    "Name": "Ada Lovelace",
}

app = App(
    key="airtable",
    title="Airtable",
    description="Create, update and find records in Airtable bases.",
    auth=Auth.api_key(
        label="Personal access token",
        help_text="airtable.com/create/tokens, with the data.records:read, "
        "data.records:write and schema.bases:read scopes on the bases to use.",
    ),
    test=test_token,
    categories=("databases", "productivity"),
    actions=[
        Action(
            "create_record",
            "Create record",
            "Creates a record; one field per field of the table (values are converted to the "
            "field's type where Airtable can).",
            create_record,
            inputs=[BASE, TABLE, FIELDS],
            outputs=RECORD_OUTPUTS,
            sample=RECORD_SAMPLE,
        ),
        Action(
            "update_record",
            "Update record",
            "Sets fields of a record; fields left empty keep their value.",
            update_record,
            inputs=[
                BASE,
                TABLE,
                InputField(
                    "record_id", "Record ID", required=True, help_text="The record's ID (rec…)."
                ),
                FIELDS,
            ],
            outputs=RECORD_OUTPUTS,
            sample=RECORD_SAMPLE,
        ),
        Action(
            "find_record",
            "Find record",
            "Finds up to 10 records whose field equals a value.",
            find_record,
            type=ActionType.SEARCH,
            inputs=[
                BASE,
                TABLE,
                InputField(
                    "search_field",
                    "Field",
                    required=True,
                    dynamic_choices=field_choices,
                    depends_on=("base", "table"),
                    help_text="The field to match (its name).",
                ),
                InputField("value", "Value", required=True, help_text="The value to match."),
            ],
            outputs=RECORD_OUTPUTS,
            sample=RECORD_SAMPLE,
        ),
    ],
)
