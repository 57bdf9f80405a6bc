"""Pipedrive: create a person, create a deal.

Reference: https://developers.pipedrive.com/docs/api/v1/Persons#addPerson (POST /v1/persons:
``name``, ``email``/``phone`` as lists of ``{"value", "primary", "label"}``, ``org_id``),
https://developers.pipedrive.com/docs/api/v1/Deals#addDeal, https://developers.pipedrive.com/docs/api/v1/Stages#getStages,
https://developers.pipedrive.com/docs/api/v1/Users#getCurrentUser; the API token in the
``x-api-token`` header (https://pipedrive.readme.io/docs/core-api-concepts-authentication);
answers ``{"success": true, "data"}``, errors ``{"success": false, "error", "errorCode"}``,
429 with rate limit headers (https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Choice,
    ChoicePage,
    Context,
    FieldType,
    InputField,
    OutputField,
)
from actionruns.sdk.http import request_json

API = "https://api.pipedrive.com/v1"


async def _data(ctx: Context, method: str, path: str, **request: Any) -> Any:
    return (await request_json(ctx, method, f"{API}{path}", **request))["data"]


async def test_token(ctx: Context) -> str:
    user = await _data(ctx, "GET", "/users/me")
    return f"{user['name']} ({user.get('company_name', '')})"


async def stage_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page:
        return ChoicePage([])
    stages = await _data(ctx, "GET", "/stages")
    return ChoicePage(
        [Choice(str(stage["id"]), f"{stage['pipeline_name']}: {stage['name']}") for stage in stages]
    )


def _contact_list(value: Any, label: str) -> list[dict[str, Any]]:
    return [
        {"value": str(item), "primary": index == 0, "label": label}
        for index, item in enumerate(value or [])
    ]


async def create_person(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"name": inputs["name"]}
    if inputs.get("email"):
        body["email"] = _contact_list(inputs["email"], "work")
    if inputs.get("phone"):
        body["phone"] = _contact_list(inputs["phone"], "work")
    if inputs.get("org_id"):
        body["org_id"] = int(inputs["org_id"])
    person = await _data(ctx, "POST", "/persons", json=body)
    primary = next((item["value"] for item in person.get("email", []) if item.get("primary")), None)
    return {
        "id": person["id"],
        "name": person["name"],
        "email": primary,
        "add_time": person.get("add_time"),
    }


async def create_deal(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"title": inputs["title"]}
    if inputs.get("value") is not None:
        body["value"] = inputs["value"]
    if inputs.get("currency"):
        body["currency"] = inputs["currency"]
    for key in ("person_id", "org_id", "stage_id"):
        if inputs.get(key):
            body[key] = int(inputs[key])
    deal = await _data(ctx, "POST", "/deals", json=body)
    return {
        key: deal.get(key)
        for key in ("id", "title", "value", "currency", "stage_id", "status", "add_time")
    }


app = App(
    key="pipedrive",
    title="Pipedrive",
    description="Add people and deals to Pipedrive.",
    auth=Auth.api_key(
        header="x-api-token",
        template="{api_key}",
        label="API token",
        help_text="Personal preferences → API in Pipedrive.",
    ),
    test=test_token,
    categories=("crm", "sales"),
    actions=[
        Action(
            "create_person",
            "Create person",
            "Adds a person (a contact).",
            create_person,
            inputs=[
                InputField("name", "Name", required=True, help_text="Their full name."),
                InputField("email", "Emails", list=True, help_text="The first is primary."),
                InputField("phone", "Phones", list=True, help_text="The first is primary."),
                InputField("org_id", "Organization ID", FieldType.INTEGER, help_text="Theirs."),
            ],
            outputs=[
                OutputField("id", "Person ID", FieldType.INTEGER),
                OutputField("name", "Name"),
                OutputField("email", "Primary email"),
                OutputField("add_time", "Added"),
            ],
            sample={
                "id": 1,
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "add_time": "2026-11-25 10:00:00",
            },
        ),
        Action(
            "create_deal",
            "Create deal",
            "Adds a deal, with its person and stage.",
            create_deal,
            inputs=[
                InputField("title", "Title", required=True, help_text="The deal's title."),
                InputField("value", "Value", FieldType.NUMBER, help_text="Its value."),
                InputField("currency", "Currency", help_text="ISO code; the company's if empty."),
                InputField("person_id", "Person ID", FieldType.INTEGER, help_text="The person."),
                InputField("org_id", "Organization ID", FieldType.INTEGER, help_text="Theirs."),
                InputField(
                    "stage_id",
                    "Stage",
                    dynamic_choices=stage_choices,
                    help_text="The first stage of the default pipeline if empty.",
                ),
            ],
            outputs=[
                OutputField("id", "Deal ID", FieldType.INTEGER),
                OutputField("title", "Title"),
                OutputField("value", "Value", FieldType.NUMBER),
                OutputField("currency", "Currency"),
                OutputField("stage_id", "Stage ID", FieldType.INTEGER),
                OutputField("status", "Status"),
                OutputField("add_time", "Added"),
            ],
            sample={
                "id": 1,
                "title": "Acme renewal",
                "value": 1500,
                "currency": "EUR",
                "stage_id": 1,
                "status": "open",
                "add_time": "2026-11-25 10:00:00",
            },
        ),
    ],
)
