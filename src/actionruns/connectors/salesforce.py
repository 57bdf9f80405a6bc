"""Salesforce: create a record of any object (its fields read from ``describe``), update a
record, find records with SOQL.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_describeGlobal.htm
(/sobjects), resources_sobject_describe.htm (fields: ``createable``, ``updateable``,
``nillable``, ``defaultedOnCreate``, ``picklistValues``), dome_sobject_create.htm (POST, 201
``{"id", "success", "errors"}``), dome_update_fields.htm (PATCH, 204),
resources_query.htm (``q``), errorcodes.htm (errors as a list of ``{"message",
"errorCode", "fields"}``; INVALID_SESSION_ID with 401, REQUEST_LIMIT_EXCEEDED with 403);
OAuth: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_web_server_flow.htm
(the token answer names the org's ``instance_url``), userinfo
(https://help.salesforce.com/s/articleView?id=sf.remoteaccess_using_userinfo_endpoint.htm),
API version 60.0; requests carry ``Authorization: Bearer <access token>``.
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
    OAuth2Config,
    OutputField,
    ThrottledError,
)
from actionruns.sdk.http import error_message, raise_for_status

VERSION = "v60.0"
LOGIN = "https://login.salesforce.com"
_TYPES = {
    "boolean": FieldType.BOOLEAN,
    "int": FieldType.INTEGER,
    "double": FieldType.NUMBER,
    "currency": FieldType.NUMBER,
    "percent": FieldType.NUMBER,
    "datetime": FieldType.DATETIME,
    "textarea": FieldType.TEXT,
}


def _instance(ctx: Context) -> str:
    instance = str(ctx.credentials.get("instance_url") or "").rstrip("/")
    if not instance.startswith("https://"):
        raise HaltError("The connection has no instance URL (https://yourorg.my.salesforce.com).")
    return instance


def _base(ctx: Context) -> str:
    return f"{_instance(ctx)}/services/data/{VERSION}"


async def _call(ctx: Context, method: str, url: str, **request: Any) -> Any:
    response = await ctx.http.request(method, url, **request)
    if response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in response.text:
        raise ThrottledError(error_message(response), delay=3600.0, meta={"status": 403})
    raise_for_status(response)
    return response.json() if response.content else None


async def test_token(ctx: Context) -> str:
    user = await _call(ctx, "GET", f"{_instance(ctx)}/services/oauth2/userinfo")
    return f"{user['name']} ({user.get('preferred_username', '')})"


async def object_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page:
        return ChoicePage([])
    described = await _call(ctx, "GET", f"{_base(ctx)}/sobjects")
    return ChoicePage(
        [
            Choice(item["name"], item["label"])
            for item in described["sobjects"]
            if item.get("createable") and item.get("queryable", True)
        ]
    )


def _field(spec: Mapping[str, Any], *, for_create: bool) -> InputField:
    choices = [
        Choice(value["value"], value.get("label") or value["value"])
        for value in spec.get("picklistValues") or []
        if value.get("active", True)
    ]
    return InputField(
        spec["name"],
        spec["label"],
        _TYPES.get(spec["type"], FieldType.STRING),
        required=for_create
        and not spec.get("nillable", True)
        and not spec.get("defaultedOnCreate", False),
        choices=choices,
        help_text=f"{spec['type']} field {spec['name']}",
    )


async def _fields(ctx: Context, inputs: Mapping[str, Any], *, for_create: bool) -> list[InputField]:
    if not inputs.get("object"):
        return []
    described = await _call(ctx, "GET", f"{_base(ctx)}/sobjects/{inputs['object']}/describe")
    flag = "createable" if for_create else "updateable"
    return [_field(spec, for_create=for_create) for spec in described["fields"] if spec.get(flag)]


async def create_fields(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
    return await _fields(ctx, inputs, for_create=True)


async def update_fields(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
    return await _fields(ctx, inputs, for_create=False)


_OWN = {"object", "record_id"}


def _values(inputs: Mapping[str, Any]) -> dict[str, Any]:
    values = {
        key: value for key, value in inputs.items() if key not in _OWN and value not in (None, "")
    }
    if not values:
        raise HaltError("Give a value for at least one field.")
    return values


async def create_record(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    url = f"{_base(ctx)}/sobjects/{inputs['object']}/"
    created = await _call(ctx, "POST", url, json=_values(inputs))
    return {"id": created["id"], "object": inputs["object"], "success": created["success"]}


async def update_record(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    url = f"{_base(ctx)}/sobjects/{inputs['object']}/{inputs['record_id']}"
    await _call(ctx, "PATCH", url, json=_values(inputs))
    return {"id": inputs["record_id"], "object": inputs["object"], "success": True}


async def find_record(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = await _call(ctx, "GET", f"{_base(ctx)}/query", params={"q": inputs["soql"]})
    return [
        {key: value for key, value in record.items() if key != "attributes"}
        for record in found.get("records", [])
    ]


OBJECT = InputField(
    "object",
    "Object",
    required=True,
    dynamic_choices=object_choices,
    alters_dynamic_fields=True,
    help_text="Account, Contact, Lead, Opportunity, a custom object…",
)

app = App(
    key="salesforce",
    title="Salesforce",
    description="Create and update records of any Salesforce object and query them with SOQL.",
    auth=Auth.oauth2_bearer(
        OAuth2Config(
            authorize_url=f"{LOGIN}/services/oauth2/authorize",
            token_url=f"{LOGIN}/services/oauth2/token",
            scopes=("api", "refresh_token"),
        ),
        help_text="Or an access token of a connected app, with the instance URL below.",
        extra_fields=[
            InputField(
                "instance_url",
                "Instance URL",
                help_text="https://yourorg.my.salesforce.com (Salesforce gives it at sign-in).",
            )
        ],
    ),
    test=test_token,
    categories=("crm", "sales"),
    actions=[
        Action(
            "create_record",
            "Create record",
            "Creates a record of the chosen object, one field per createable field.",
            create_record,
            inputs=[OBJECT, DynamicFields("fields", create_fields, depends_on=("object",))],
            outputs=[
                OutputField("id", "Record ID"),
                OutputField("object", "Object"),
                OutputField("success", "Success", FieldType.BOOLEAN),
            ],
            sample={"id": "001D000000IqhSLIAZ", "object": "Account", "success": True},
        ),
        Action(
            "update_record",
            "Update record",
            "Sets fields on a record; fields left empty keep their value.",
            update_record,
            inputs=[
                OBJECT,
                InputField("record_id", "Record ID", required=True, help_text="Its 18-char id."),
                DynamicFields("fields", update_fields, depends_on=("object",)),
            ],
            outputs=[
                OutputField("id", "Record ID"),
                OutputField("object", "Object"),
                OutputField("success", "Success", FieldType.BOOLEAN),
            ],
            sample={"id": "001D000000IqhSLIAZ", "object": "Account", "success": True},
        ),
        Action(
            "find_record",
            "Find records (SOQL)",
            "Runs a SOQL query and returns the records, e.g. SELECT Id, Name FROM Account "
            "WHERE Name = 'Acme'.",
            find_record,
            type=ActionType.SEARCH,
            inputs=[
                InputField("soql", "SOQL", FieldType.CODE, required=True, help_text="Add a LIMIT.")
            ],
            outputs=[OutputField("Id", "Record ID")],
            sample={"Id": "001D000000IqhSLIAZ", "Name": "Acme"},
        ),
    ],
)
