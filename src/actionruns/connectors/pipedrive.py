"""Pipedrive: create a person, create a deal.

Reference (API v1, https://api.pipedrive.com/v1): persons
(https://developers.pipedrive.com/docs/api/v1/Persons#addPerson: ``name``, ``email`` and
``phone`` as lists of ``{"value", "primary", "label"}``, ``org_id``), deals
(https://developers.pipedrive.com/docs/api/v1/Deals#addDeal: ``title``, ``value`` as a
string, ``currency``, ``person_id``, ``org_id``, ``stage_id``, ``expected_close_date``),
stages (https://developers.pipedrive.com/docs/api/v1/Stages#getStages: ``start``/``limit``,
``additional_data.pagination``), the current user
(https://developers.pipedrive.com/docs/api/v1/Users#getCurrentUser). The API token goes in
the ``x-api-token`` header
(https://pipedrive.readme.io/docs/core-api-concepts-authentication). Answers are
``{"success": true, "data"}``, errors ``{"success": false, "error", "errorCode"}``; a 429
carries ``x-ratelimit-limit``, ``x-ratelimit-remaining`` and ``x-ratelimit-reset`` (seconds
left in the window) (https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting).
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
    HaltError,
    InputField,
    OutputField,
    ThrottledError,
)
from actionruns.sdk.http import error_message, raise_for_status, retry_after_seconds
from actionruns.sdk.pagination import cursor_page

API = "https://api.pipedrive.com/v1"
STAGES_PER_PAGE = 100


async def _answer(ctx: Context, method: str, path: str, **request: Any) -> dict[str, Any]:
    response = await ctx.http.request(method, f"{API}{path}", **request)
    if response.status_code == 429:
        # The window's remaining seconds, when there is no Retry-After.
        reset = response.headers.get("x-ratelimit-reset", "")
        default = max(1.0, float(reset)) if reset.isdigit() else 2.0
        delay = retry_after_seconds(response, default)
        raise ThrottledError(error_message(response), delay=delay, meta={"status": 429})
    raise_for_status(response)
    answer: dict[str, Any] = response.json()
    if answer.get("success") is False:
        raise HaltError(str(answer.get("error") or "Pipedrive refused the request."))
    return answer


async def _data(ctx: Context, method: str, path: str, **request: Any) -> Any:
    return (await _answer(ctx, method, path, **request))["data"]


async def test_token(ctx: Context) -> str:
    user = await _data(ctx, "GET", "/users/me")
    return f"{user['name']} ({user.get('company_name', '')})"


async def stage_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(cursor: str | None) -> tuple[list[Choice], str | None]:
        params = {"start": cursor or "0", "limit": str(STAGES_PER_PAGE)}
        answer = await _answer(ctx, "GET", "/stages", params=params)
        stages = answer.get("data") or []
        pagination = (answer.get("additional_data") or {}).get("pagination") or {}
        more = pagination.get("more_items_in_collection") and pagination.get("next_start")
        choices = [
            Choice(str(stage["id"]), f"{stage['pipeline_name']}: {stage['name']}")
            for stage in stages
        ]
        return choices, str(pagination["next_start"]) if more else None

    return await cursor_page(fetch, page)


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
    value = inputs.get("value")
    if value is not None:
        # A string in v1: 1500, not 1500.0.
        whole = isinstance(value, float) and value.is_integer()
        body["value"] = str(int(value) if whole else value)
    for key in ("currency", "expected_close_date"):
        if inputs.get(key):
            body[key] = str(inputs[key])
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
                InputField(
                    "expected_close_date",
                    "Expected close date",
                    help_text="YYYY-MM-DD.",
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
