"""HubSpot CRM: create or update a contact by email, create a deal, find a contact.

Reference (CRM v3 paths, api.hubapi.com, ``Authorization: Bearer <token>``):
contacts batch upsert with ``idProperty: email``
(https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts),
deals (https://developers.hubspot.com/docs/api/crm/deals: POST /crm/v3/objects/deals with
``properties`` and ``associations``, deal-to-contact association type 3), CRM search
(https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm: ``filterGroups``,
``properties``, ``limit``), pipelines
(https://developers.hubspot.com/docs/api-reference/legacy/crm/pipelines/get-pipelines),
account details
(https://developers.hubspot.com/docs/api-reference/legacy/account/account-information/get-account-details.md);
errors as ``{"status": "error", "message", "category", "correlationId"}``, batch calls may
answer 207 Multi-Status with ``errors``
(https://developers.hubspot.com/docs/api-reference/error-handling); 429 with ``policyName``
(``TEN_SECONDLY_ROLLING``, ``SECONDLY``, ``DAILY``) and ``X-HubSpot-RateLimit-*`` headers
(https://developers.hubspot.com/docs/api/usage-details). OAuth:
https://developers.hubspot.com/docs/guides/apps/authentication/working-with-oauth (authorize
at app.hubspot.com/oauth/authorize, tokens at api.hubapi.com/oauth/v1/token, client
credentials in the form, access tokens live 30 minutes). A private app's access token may be
given directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actionruns.sdk import (
    Action,
    ActionType,
    App,
    Auth,
    Choice,
    ChoicePage,
    Context,
    FieldType,
    HaltError,
    InputField,
    OAuth2Config,
    OutputField,
    ThrottledError,
)
from actionruns.sdk.http import error_message, raise_for_status, retry_after_seconds

API = "https://api.hubapi.com"
CONTACT_PROPERTIES = ["email", "firstname", "lastname", "phone", "company", "lifecyclestage"]


# How long each of HubSpot's limits lasts, when a 429 has no Retry-After.
_POLICY_DELAYS = {"SECONDLY": 1.0, "TEN_SECONDLY_ROLLING": 10.0, "DAILY": 3600.0}


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    response = await ctx.http.request(method, f"{API}{path}", **request)
    if response.status_code == 429:
        try:
            body = response.json()
        except ValueError:
            body = {}
        policy = str(body.get("policyName", "")) if isinstance(body, dict) else ""
        delay = retry_after_seconds(response, _POLICY_DELAYS.get(policy, 10.0))
        raise ThrottledError(error_message(response), delay=delay, meta={"status": 429})
    raise_for_status(response)
    return response.json() if response.content else None


async def test_token(ctx: Context) -> str:
    details = await _call(ctx, "GET", "/account-info/v3/details")
    return f"HubSpot account {details['portalId']}"


async def _pipelines(ctx: Context) -> list[dict[str, Any]]:
    found = await _call(ctx, "GET", "/crm/v3/pipelines/deals")
    return [item for item in found["results"] if not item.get("archived")]


async def pipeline_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page:
        return ChoicePage([])
    return ChoicePage([Choice(item["id"], item["label"]) for item in await _pipelines(ctx)])


async def stage_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page:
        return ChoicePage([])
    pipeline = next(
        (item for item in await _pipelines(ctx) if item["id"] == inputs.get("pipeline")), None
    )
    stages = pipeline["stages"] if pipeline else []
    return ChoicePage(
        [Choice(stage["id"], stage["label"]) for stage in stages if not stage.get("archived")]
    )


def _contact(record: Mapping[str, Any]) -> dict[str, Any]:
    properties = record.get("properties", {})
    return {
        "id": record["id"],
        **{key: properties.get(key) for key in CONTACT_PROPERTIES},
        "created_at": record.get("createdAt"),
        "updated_at": record.get("updatedAt"),
    }


async def create_or_update_contact(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    properties = {
        key: inputs[key] for key in CONTACT_PROPERTIES[1:] if inputs.get(key) not in (None, "")
    }
    properties.update({str(k): str(v) for k, v in (inputs.get("properties") or {}).items()})
    body = {"inputs": [{"idProperty": "email", "id": inputs["email"], "properties": properties}]}
    answer = await _call(ctx, "POST", "/crm/v3/objects/contacts/batch/upsert", json=body)
    results = answer.get("results") or []
    if not results:
        # 207 Multi-Status: the input failed, its reason in "errors".
        errors = answer.get("errors") or [{}]
        raise HaltError(str(errors[0].get("message") or "HubSpot did not upsert the contact."))
    record = results[0]
    return {**_contact(record), "is_new": bool(record.get("new", False))}


async def create_deal(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {"dealname": inputs["dealname"]}
    for key in ("amount", "pipeline", "dealstage", "closedate"):
        value = inputs.get(key)
        if value not in (None, ""):
            # HubSpot property values are strings: 1500, not 1500.0.
            whole = isinstance(value, float) and value.is_integer()
            properties[key] = str(int(value) if whole else value)
    body: dict[str, Any] = {"properties": properties}
    if inputs.get("contact_id"):
        body["associations"] = [
            {
                "to": {"id": str(inputs["contact_id"])},
                # HubSpot-defined association: deal to contact.
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}],
            }
        ]
    deal = await _call(ctx, "POST", "/crm/v3/objects/deals", json=body)
    found = deal.get("properties", {})
    return {
        "id": deal["id"],
        "dealname": found.get("dealname"),
        "amount": found.get("amount"),
        "dealstage": found.get("dealstage"),
        "pipeline": found.get("pipeline"),
        "created_at": deal.get("createdAt"),
    }


async def find_contact(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    if not inputs.get("email"):
        raise HaltError("Give the email address to look for.")
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "email", "operator": "EQ", "value": inputs["email"]}]}
        ],
        "properties": CONTACT_PROPERTIES,
        "limit": 10,
    }
    found = await _call(ctx, "POST", "/crm/v3/objects/contacts/search", json=body)
    return [_contact(record) for record in found.get("results", [])]


CONTACT_OUTPUTS = [
    OutputField("id", "Contact ID"),
    *(OutputField(key, key.title()) for key in CONTACT_PROPERTIES),
    OutputField("created_at", "Created", FieldType.DATETIME),
    OutputField("updated_at", "Updated", FieldType.DATETIME),
]
CONTACT_SAMPLE = {
    "id": "512",
    "email": "ada@example.com",
    "firstname": "Ada",
    "lastname": "Lovelace",
    "phone": "+44 20 7946 0000",
    "company": "Analytical Engines",
    "lifecyclestage": "lead",
    "created_at": "2026-11-25T10:00:00.000Z",
    "updated_at": "2026-11-25T10:00:00.000Z",
}

app = App(
    key="hubspot",
    title="HubSpot",
    description="Create and update contacts and deals in HubSpot CRM, and find contacts.",
    auth=Auth.oauth2_bearer(
        OAuth2Config(
            authorize_url="https://app.hubspot.com/oauth/authorize",
            token_url=f"{API}/oauth/v1/token",
            scopes=(
                "oauth",
                "crm.objects.contacts.read",
                "crm.objects.contacts.write",
                "crm.objects.deals.read",
                "crm.objects.deals.write",
            ),
        ),
        help_text="Or a private app's access token (Settings → Integrations → Private apps).",
    ),
    test=test_token,
    categories=("crm", "sales"),
    actions=[
        Action(
            "create_or_update_contact",
            "Create or update contact",
            "Creates a contact, or updates the one with this email.",
            create_or_update_contact,
            type=ActionType.SEARCH_OR_WRITE,
            inputs=[
                InputField("email", "Email", required=True, help_text="Identifies the contact."),
                InputField("firstname", "First name", help_text="Their first name."),
                InputField("lastname", "Last name", help_text="Their last name."),
                InputField("phone", "Phone", help_text="Their phone number."),
                InputField("company", "Company", help_text="Their company's name."),
                InputField(
                    "lifecyclestage",
                    "Lifecycle stage",
                    choices=[
                        Choice("subscriber", "Subscriber"),
                        Choice("lead", "Lead"),
                        Choice("marketingqualifiedlead", "Marketing qualified lead"),
                        Choice("salesqualifiedlead", "Sales qualified lead"),
                        Choice("opportunity", "Opportunity"),
                        Choice("customer", "Customer"),
                    ],
                    help_text="Where they are in the funnel.",
                ),
                InputField(
                    "properties",
                    "Other properties",
                    FieldType.DICT,
                    help_text="Internal property names and values.",
                ),
            ],
            outputs=[*CONTACT_OUTPUTS, OutputField("is_new", "Created now", FieldType.BOOLEAN)],
            sample={**CONTACT_SAMPLE, "is_new": True},
        ),
        Action(
            "create_deal",
            "Create deal",
            "Creates a deal in a pipeline stage, optionally with its contact.",
            create_deal,
            inputs=[
                InputField("dealname", "Deal name", required=True, help_text="Its name."),
                InputField("amount", "Amount", FieldType.NUMBER, help_text="Its value."),
                InputField(
                    "pipeline",
                    "Pipeline",
                    dynamic_choices=pipeline_choices,
                    alters_dynamic_fields=True,
                    help_text="The deals pipeline; the default if empty.",
                ),
                InputField(
                    "dealstage",
                    "Stage",
                    dynamic_choices=stage_choices,
                    depends_on=("pipeline",),
                    help_text="A stage of the pipeline.",
                ),
                InputField("closedate", "Close date", FieldType.DATETIME, help_text="Expected."),
                InputField("contact_id", "Contact ID", help_text="Associates the deal."),
            ],
            outputs=[
                OutputField("id", "Deal ID"),
                OutputField("dealname", "Deal name"),
                OutputField("amount", "Amount"),
                OutputField("dealstage", "Stage"),
                OutputField("pipeline", "Pipeline"),
                OutputField("created_at", "Created", FieldType.DATETIME),
            ],
            sample={
                "id": "14772",
                "dealname": "Acme renewal",
                "amount": "1500",
                "dealstage": "appointmentscheduled",
                "pipeline": "default",
                "created_at": "2026-11-25T10:00:00.000Z",
            },
        ),
        Action(
            "find_contact",
            "Find contact",
            "Finds contacts by email address.",
            find_contact,
            type=ActionType.SEARCH,
            inputs=[InputField("email", "Email", required=True, help_text="Exact address.")],
            outputs=CONTACT_OUTPUTS,
            sample=CONTACT_SAMPLE,
        ),
    ],
)
