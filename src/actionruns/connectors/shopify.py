"""Shopify: create a customer, adjust an inventory level, find an order, through the GraphQL
Admin API (the REST Admin API is legacy since 2024-10:
https://shopify.dev/docs/api/admin-rest).

Reference (GraphQL Admin API 2026-10, https://shopify.dev/docs/api/admin-graphql: POST
https://{shop}.myshopify.com/admin/api/2026-10/graphql.json with ``X-Shopify-Access-Token``,
https://shopify.dev/docs/api/usage/authentication#getting-started-with-authenticated-access):
https://shopify.dev/docs/api/admin-graphql/latest/mutations/customerCreate (``CustomerInput``;
validation problems in ``userErrors``),
https://shopify.dev/docs/api/admin-graphql/latest/mutations/inventoryAdjustQuantities (since
2026-04 it needs the ``@idempotent(key:)`` directive,
https://shopify.dev/changelog/making-idempotency-mandatory-for-inventory-adjustments-and-refund-mutations,
and an explicit ``changeFromQuantity``, an integer to compare-and-swap or null,
https://shopify.dev/changelog/making-changefromquantity-field-required),
https://shopify.dev/docs/api/admin-graphql/latest/queries/orders (search syntax ``name:#1001``,
https://shopify.dev/docs/api/usage/search-syntax),
https://shopify.dev/docs/api/admin-graphql/latest/queries/locations (Relay paging with
``first``/``after`` and ``pageInfo``), https://shopify.dev/docs/api/admin-graphql/latest/queries/shop
(the connection test). Errors: HTTP 401 with ``{"errors": "[API] Invalid API key or access
token …"}``, 402/403/404/423 with ``{"errors": "…"}``, 5xx; otherwise HTTP 200 with
``errors[].extensions.code`` (THROTTLED when the query-cost bucket is empty, with
``extensions.cost.throttleStatus`` to compute the wait: https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits;
ACCESS_DENIED; IDEMPOTENCY_CONCURRENT_REQUEST while the same key is in flight:
https://shopify.dev/docs/api/usage/implementing-idempotency).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import httpx2

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
    OutputField,
    ThrottledError,
    TransientError,
)
from actionruns.sdk.http import raise_for_status
from actionruns.sdk.pagination import cursor_page

VERSION = "2026-10"
SHOP = re.compile(r"[a-z0-9][a-z0-9-]*")
TRANSIENT_CODES = {"INTERNAL_SERVER_ERROR", "IDEMPOTENCY_CONCURRENT_REQUEST"}
SHOP_QUERY = "query Shop { shop { name myshopifyDomain } }"
LOCATIONS = """query Locations($after: String) {
  locations(first: 50, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } }
}"""
CREATE_CUSTOMER = """mutation CustomerCreate($input: CustomerInput!) {
  customerCreate(input: $input) {
    customer {
      id firstName lastName note tags createdAt
      defaultEmailAddress { emailAddress }
      defaultPhoneNumber { phoneNumber }
    }
    userErrors { field message }
  }
}"""
ADJUST = """mutation InventoryAdjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id createdAt reason changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"""
ORDERS = """query FindOrders($query: String!) {
  orders(first: 10, query: $query, sortKey: CREATED_AT, reverse: true) {
    nodes {
      id name email createdAt cancelledAt displayFinancialStatus displayFulfillmentStatus
      totalPriceSet { shopMoney { amount currencyCode } }
    }
  }
}"""
REASONS = [
    Choice("correction", "Correction"),
    Choice("cycle_count_available", "Cycle count"),
    Choice("damaged", "Damaged"),
    Choice("other", "Other"),
    Choice("promotion", "Promotion or donation"),
    Choice("received", "Received"),
    Choice("restock", "Restock (a return)"),
    Choice("shrinkage", "Shrinkage (theft or loss)"),
]


def _apply(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
    request.headers["X-Shopify-Access-Token"] = str(credentials["access_token"])


def _url(ctx: Context) -> str:
    shop = str(ctx.credentials.get("shop", "")).strip().lower()
    shop = shop.removeprefix("https://").removeprefix("http://").split("/")[0]
    shop = shop.removesuffix(".myshopify.com")
    if not SHOP.fullmatch(shop):
        raise HaltError("The shop must be its myshopify name, e.g. acme for acme.myshopify.com.")
    return f"https://{shop}.myshopify.com/admin/api/{VERSION}/graphql.json"


def _messages(errors: Any) -> str:
    """``errors`` as Shopify gives it: a string, a list of ``{"message"}`` or a field map."""
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        return "; ".join(
            str(error.get("message")) if isinstance(error, dict) else str(error) for error in errors
        )
    if isinstance(errors, dict):
        return "; ".join(f"{key}: {value}" for key, value in errors.items())
    return ""


def _raise_for_http(response: httpx2.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    try:
        message = _messages(response.json().get("errors"))
    except (ValueError, AttributeError):
        message = response.text.strip()[:500]
    raise_for_status(response, message=message or None, throttle_delay=2.0)


def _throttle_delay(body: Mapping[str, Any]) -> float:
    """Seconds until the cost bucket holds this query again."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        return max(1.0, missing / float(status["restoreRate"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 2.0


async def _graphql(ctx: Context, query: str, variables: Mapping[str, Any] | None = None) -> Any:
    payload = {"query": query, "variables": dict(variables or {})}
    response = await ctx.http.post(_url(ctx), json=payload)
    _raise_for_http(response)
    try:
        body = response.json()
    except ValueError:
        status = response.status_code
        raise TransientError(f"Shopify answered HTTP {status} without JSON.") from None
    errors = body.get("errors")
    if errors:
        message = _messages(errors) or "Shopify refused the request."
        first = errors[0] if isinstance(errors, list) and errors else {}
        extensions = (first.get("extensions") if isinstance(first, dict) else None) or {}
        code = str(extensions.get("code", ""))
        meta = {"graphql_code": code}
        if code == "THROTTLED":
            raise ThrottledError(message, delay=_throttle_delay(body), meta=meta)
        if code in TRANSIENT_CODES:
            raise TransientError(message, meta=meta)
        raise HaltError(message, meta=meta)
    return body["data"]


def _payload(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The mutation's payload, or its ``userErrors`` as a halt."""
    payload: dict[str, Any] = data[key]
    problems = payload.get("userErrors") or []
    if problems:
        raise HaltError(
            "; ".join(
                f"{'.'.join(problem.get('field') or [])}: {problem['message']}".lstrip(": ")
                for problem in problems
            ),
            meta={"codes": [problem.get("code") for problem in problems if problem.get("code")]},
        )
    return payload


def _gid(kind: str, value: Any) -> str:
    """A global id from a gid or a bare number, as the admin shows it."""
    text = str(value).strip()
    return f"gid://shopify/{kind}/{text}" if text.isdigit() else text


def _idempotency_key(
    ctx: Context, action: str, variables: Mapping[str, Any], given: Any = None
) -> str:
    """The user's key (e.g. the triggering event's id), else one key per run, so a retried
    attempt never adjusts twice; outside a run (replays), a digest of the request."""
    if given:
        return str(given).strip()
    if ctx.run_id:
        return f"actionruns-{ctx.run_id}-{action}"
    digest = hashlib.sha256(json.dumps([action, variables], sort_keys=True).encode()).hexdigest()
    return f"actionruns-{digest[:32]}"


async def test_token(ctx: Context) -> str:
    shop = (await _graphql(ctx, SHOP_QUERY))["shop"]
    return f"{shop['name']} ({shop['myshopifyDomain']})"


async def location_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(cursor: str | None) -> tuple[list[Choice], str | None]:
        found = (await _graphql(ctx, LOCATIONS, {"after": cursor}))["locations"]
        choices = [Choice(item["id"], item["name"]) for item in found["nodes"]]
        info = found["pageInfo"]
        return choices, info["endCursor"] if info["hasNextPage"] else None

    return await cursor_page(fetch, page)


async def create_customer(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, name in (
        ("email", "email"),
        ("phone", "phone"),
        ("first_name", "firstName"),
        ("last_name", "lastName"),
        ("note", "note"),
    ):
        if inputs.get(key):
            fields[name] = str(inputs[key]).strip()
    if inputs.get("tags"):
        fields["tags"] = list(inputs["tags"])
    if not fields.get("email") and not fields.get("phone"):
        raise HaltError("Give the customer's email, phone number or both.")
    data = await _graphql(ctx, CREATE_CUSTOMER, {"input": fields})
    customer = _payload(data, "customerCreate")["customer"]
    return {
        "id": customer["id"],
        "email": (customer.get("defaultEmailAddress") or {}).get("emailAddress"),
        "phone": (customer.get("defaultPhoneNumber") or {}).get("phoneNumber"),
        "first_name": customer.get("firstName"),
        "last_name": customer.get("lastName"),
        "note": customer.get("note"),
        "tags": list(customer.get("tags") or []),
        "created_at": customer.get("createdAt"),
    }


async def adjust_inventory_level(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    item_id = _gid("InventoryItem", inputs["inventory_item_id"])
    location_id = _gid("Location", inputs["location"])
    expected = inputs.get("expected_quantity")
    change = {
        "delta": int(inputs["delta"]),
        "changeFromQuantity": None if expected is None else int(expected),
        "inventoryItemId": item_id,
        "locationId": location_id,
    }
    adjustment: dict[str, Any] = {
        "reason": inputs.get("reason") or "correction",
        "name": "available",
        "changes": [change],
    }
    if inputs.get("reference_document_uri"):
        adjustment["referenceDocumentUri"] = inputs["reference_document_uri"]
    key = _idempotency_key(ctx, "adjust_inventory_level", adjustment, inputs.get("idempotency_key"))
    data = await _graphql(ctx, ADJUST, {"input": adjustment, "key": key})
    group = _payload(data, "inventoryAdjustQuantities")["inventoryAdjustmentGroup"]
    changes: list[dict[str, Any]] = list(group.get("changes") or [])
    available = next((item for item in changes if item.get("name") == "available"), {})
    return {
        "adjustment_group_id": group.get("id"),
        "inventory_item_id": item_id,
        "location_id": location_id,
        "delta": available.get("delta", change["delta"]),
        "available_after": available.get("quantityAfterChange"),
        "reason": group.get("reason"),
        "created_at": group.get("createdAt"),
    }


def _order_name(value: Any) -> str:
    name = str(value).strip()
    return f"#{name}" if name.isdigit() else name


async def find_order(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    name = _order_name(inputs["order_name"])
    found = (await _graphql(ctx, ORDERS, {"query": f"name:{name}"}))["orders"]["nodes"]
    return [
        {
            "id": order["id"],
            "name": order["name"],
            "email": order.get("email"),
            "created_at": order.get("createdAt"),
            "cancelled_at": order.get("cancelledAt"),
            "financial_status": order.get("displayFinancialStatus"),
            "fulfillment_status": order.get("displayFulfillmentStatus"),
            "total": order["totalPriceSet"]["shopMoney"]["amount"],
            "currency": order["totalPriceSet"]["shopMoney"]["currencyCode"],
        }
        for order in found
        if str(order.get("name", "")).lower() == name.lower()  # the search also matches parts
    ]


app = App(
    key="shopify",
    title="Shopify",
    description="Create customers, adjust inventory and find orders in a Shopify store.",
    auth=Auth.custom(
        [
            InputField(
                "shop",
                "Shop",
                required=True,
                placeholder="acme",
                help_text="The store's myshopify name: acme for acme.myshopify.com.",
            ),
            InputField(
                "access_token",
                "Admin API access token",
                FieldType.PASSWORD,
                required=True,
                help_text="An Admin API access token (shpat_…) of a custom app installed on "
                "the store, with read_customers, write_customers, read_locations, "
                "write_inventory and read_orders.",
            ),
        ],
        apply=_apply,
    ),
    test=test_token,
    categories=("ecommerce",),
    actions=[
        Action(
            "create_customer",
            "Create customer",
            "Creates a customer with an email, a phone number or both.",
            create_customer,
            inputs=[
                InputField("email", "Email", help_text="Their email address; must be unique."),
                InputField(
                    "phone",
                    "Phone",
                    help_text="E.164, e.g. +16135551111; must be unique.",
                ),
                InputField("first_name", "First name", help_text="Their first name."),
                InputField("last_name", "Last name", help_text="Their last name."),
                InputField("tags", "Tags", list=True, help_text="Tags to put on the customer."),
                InputField(
                    "note", "Note", FieldType.TEXT, help_text="A note about them, for staff."
                ),
            ],
            outputs=[
                OutputField("id", "Customer ID"),
                OutputField("email", "Email"),
                OutputField("phone", "Phone"),
                OutputField("first_name", "First name"),
                OutputField("last_name", "Last name"),
                OutputField("note", "Note"),
                OutputField("tags", "Tags", FieldType.JSON),
                OutputField("created_at", "Created", FieldType.DATETIME),
            ],
            sample={
                "id": "gid://shopify/Customer/1073339460",
                "email": "steve.lastnameson@example.com",
                "phone": "+16465555555",
                "first_name": "Steve",
                "last_name": "Lastname",
                "note": None,
                "tags": ["vip"],
                "created_at": "2026-11-25T10:00:00Z",
            },
        ),
        Action(
            "adjust_inventory_level",
            "Adjust inventory level",
            "Adds to or takes from an item's available quantity at a location.",
            adjust_inventory_level,
            inputs=[
                InputField(
                    "location",
                    "Location",
                    required=True,
                    dynamic_choices=location_choices,
                    help_text="Where the stock is.",
                ),
                InputField(
                    "inventory_item_id",
                    "Inventory item ID",
                    required=True,
                    help_text="The variant's inventory item: gid://shopify/InventoryItem/… or "
                    "its number.",
                ),
                InputField(
                    "delta",
                    "Change",
                    FieldType.INTEGER,
                    required=True,
                    help_text="How many to add (10) or take away (-2).",
                ),
                InputField(
                    "reason",
                    "Reason",
                    choices=REASONS,
                    default="correction",
                    help_text="Why the quantity changes.",
                ),
                InputField(
                    "expected_quantity",
                    "Expected available quantity",
                    FieldType.INTEGER,
                    help_text="If given, Shopify refuses the change unless the available "
                    "quantity is exactly this (protects against concurrent changes).",
                ),
                InputField(
                    "idempotency_key",
                    "Idempotency key",
                    help_text="Shopify applies an adjustment with the same key only once, e.g. "
                    "the id of the event that caused it. Empty: once per run, however often "
                    "the run is retried.",
                ),
                InputField(
                    "reference_document_uri",
                    "Reference URI",
                    help_text="What caused the change, for the history, e.g. "
                    "logistics://warehouse/receipt/123.",
                ),
            ],
            outputs=[
                OutputField("adjustment_group_id", "Adjustment ID"),
                OutputField("inventory_item_id", "Inventory item ID"),
                OutputField("location_id", "Location ID"),
                OutputField("delta", "Change", FieldType.INTEGER),
                OutputField("available_after", "Available after", FieldType.INTEGER),
                OutputField("reason", "Reason"),
                OutputField("created_at", "When", FieldType.DATETIME),
            ],
            sample={
                "adjustment_group_id": "gid://shopify/InventoryAdjustmentGroup/1234",
                "inventory_item_id": "gid://shopify/InventoryItem/30322695",
                "location_id": "gid://shopify/Location/124656943",
                "delta": -4,
                "available_after": 6,
                "reason": "correction",
                "created_at": "2026-11-25T10:00:00Z",
            },
        ),
        Action(
            "find_order",
            "Find order",
            "Finds an order by its name, e.g. #1001 (any status, newest first).",
            find_order,
            type=ActionType.SEARCH,
            inputs=[
                InputField(
                    "order_name",
                    "Order",
                    required=True,
                    help_text="The order's name as the admin shows it: #1001, or just 1001.",
                )
            ],
            outputs=[
                OutputField("id", "Order ID"),
                OutputField("name", "Order"),
                OutputField("email", "Email"),
                OutputField("created_at", "Created", FieldType.DATETIME),
                OutputField("cancelled_at", "Cancelled", FieldType.DATETIME),
                OutputField("financial_status", "Payment status"),
                OutputField("fulfillment_status", "Fulfillment status"),
                OutputField("total", "Total"),
                OutputField("currency", "Currency"),
            ],
            sample={
                "id": "gid://shopify/Order/450789469",
                "name": "#1001",
                "email": "bob.norman@mail.example.com",
                "created_at": "2026-11-25T10:00:00Z",
                "cancelled_at": None,
                "financial_status": "PAID",
                "fulfillment_status": "UNFULFILLED",
                "total": "598.94",
                "currency": "USD",
            },
        ),
    ],
)
