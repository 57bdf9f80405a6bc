"""Shopify: create a customer, adjust an inventory level, find an order, through the Admin
GraphQL API.

Reference: https://shopify.dev/docs/api/admin-graphql (POST
https://{shop}.myshopify.com/admin/api/2025-01/graphql.json with ``X-Shopify-Access-Token``),
https://shopify.dev/docs/api/admin-graphql/latest/mutations/customerCreate,
https://shopify.dev/docs/api/admin-graphql/latest/mutations/inventoryAdjustQuantities,
https://shopify.dev/docs/api/admin-graphql/latest/queries/orders (search syntax ``name:#1001``),
https://shopify.dev/docs/api/admin-graphql/latest/queries/locations; validation problems as
``userErrors`` in the payload, rate limits as a THROTTLED error
(https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits).
"""

from __future__ import annotations

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
    ExpiredAuthError,
    FieldType,
    HaltError,
    InputField,
    OutputField,
    ThrottledError,
)
from actionruns.sdk.graphql import graphql
from actionruns.sdk.pagination import cursor_page

VERSION = "2025-01"
CODES = {"THROTTLED": ThrottledError, "ACCESS_DENIED": HaltError, "UNAUTHORIZED": ExpiredAuthError}
SHOP = """query Shop { shop { name myshopifyDomain } }"""
LOCATIONS = """query Locations($after: String) {
  locations(first: 50, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } }
}"""
CREATE_CUSTOMER = """mutation CustomerCreate($input: CustomerInput!) {
  customerCreate(input: $input) {
    customer { id email firstName lastName phone tags createdAt }
    userErrors { field message }
  }
}"""
ADJUST = """mutation InventoryAdjust($input: InventoryAdjustQuantitiesInput!) {
  inventoryAdjustQuantities(input: $input) {
    inventoryAdjustmentGroup { createdAt reason changes { name delta } }
    userErrors { field message }
  }
}"""
ORDERS = """query FindOrders($query: String!) {
  orders(first: 10, query: $query, sortKey: CREATED_AT, reverse: true) {
    nodes {
      id name email createdAt displayFinancialStatus displayFulfillmentStatus
      totalPriceSet { shopMoney { amount currencyCode } }
    }
  }
}"""


def _apply(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
    request.headers["X-Shopify-Access-Token"] = str(credentials["access_token"])


def _url(ctx: Context) -> str:
    shop = str(ctx.credentials["shop"]).strip().lower()
    shop = shop.removeprefix("https://").split("/")[0].removesuffix(".myshopify.com")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", shop):
        raise HaltError("The shop must be its myshopify name, e.g. acme for acme.myshopify.com.")
    return f"https://{shop}.myshopify.com/admin/api/{VERSION}/graphql.json"


async def _call(ctx: Context, query: str, variables: Mapping[str, Any] | None = None) -> Any:
    return await graphql(ctx, _url(ctx), query, variables, codes=CODES, throttle_delay=2.0)


def _payload(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    payload: dict[str, Any] = data[key]
    problems = payload.get("userErrors") or []
    if problems:
        raise HaltError(
            "; ".join(
                f"{'.'.join(problem.get('field') or [])}: {problem['message']}".lstrip(": ")
                for problem in problems
            )
        )
    return payload


async def test_token(ctx: Context) -> str:
    return str((await _call(ctx, SHOP))["shop"]["name"])


async def location_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(cursor: str | None) -> tuple[list[Choice], str | None]:
        found = (await _call(ctx, LOCATIONS, {"after": cursor}))["locations"]
        choices = [Choice(item["id"], item["name"]) for item in found["nodes"]]
        info = found["pageInfo"]
        return choices, info["endCursor"] if info["hasNextPage"] else None

    return await cursor_page(fetch, page)


async def create_customer(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, name in (
        ("email", "email"),
        ("first_name", "firstName"),
        ("last_name", "lastName"),
        ("phone", "phone"),
        ("note", "note"),
    ):
        if inputs.get(key):
            fields[name] = inputs[key]
    if inputs.get("tags"):
        fields["tags"] = list(inputs["tags"])
    if not fields.get("email") and not fields.get("phone"):
        raise HaltError("Give the customer's email, phone or both.")
    customer = _payload(await _call(ctx, CREATE_CUSTOMER, {"input": fields}), "customerCreate")[
        "customer"
    ]
    return {
        "id": customer["id"],
        "email": customer.get("email"),
        "first_name": customer.get("firstName"),
        "last_name": customer.get("lastName"),
        "phone": customer.get("phone"),
        "created_at": customer.get("createdAt"),
    }


async def adjust_inventory_level(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    change = {
        "delta": int(inputs["delta"]),
        "inventoryItemId": inputs["inventory_item_id"],
        "locationId": inputs["location"],
    }
    variables = {
        "input": {
            "reason": inputs.get("reason") or "correction",
            "name": "available",
            "changes": [change],
        }
    }
    group = _payload(await _call(ctx, ADJUST, variables), "inventoryAdjustQuantities")[
        "inventoryAdjustmentGroup"
    ]
    return {
        "inventory_item_id": inputs["inventory_item_id"],
        "location_id": inputs["location"],
        "delta": int(inputs["delta"]),
        "reason": group["reason"],
        "created_at": group["createdAt"],
    }


async def find_order(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    name = str(inputs["order_name"]).strip()
    if not name.startswith("#"):
        name = f"#{name}"
    orders = (await _call(ctx, ORDERS, {"query": f"name:{name}"}))["orders"]["nodes"]
    return [
        {
            "id": order["id"],
            "name": order["name"],
            "email": order.get("email"),
            "created_at": order.get("createdAt"),
            "financial_status": order.get("displayFinancialStatus"),
            "fulfillment_status": order.get("displayFulfillmentStatus"),
            "total": order["totalPriceSet"]["shopMoney"]["amount"],
            "currency": order["totalPriceSet"]["shopMoney"]["currencyCode"],
        }
        for order in orders
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
                help_text="The store's myshopify name (acme for acme.myshopify.com).",
            ),
            InputField(
                "access_token",
                "Admin API access token",
                FieldType.PASSWORD,
                required=True,
                help_text="shpat_… from a custom app with customers, inventory and orders access.",
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
            "Creates a customer.",
            create_customer,
            inputs=[
                InputField("email", "Email", help_text="Their email address."),
                InputField("first_name", "First name", help_text="Their first name."),
                InputField("last_name", "Last name", help_text="Their last name."),
                InputField("phone", "Phone", help_text="E.164, e.g. +16135551111."),
                InputField("tags", "Tags", list=True, help_text="Customer tags."),
                InputField("note", "Note", FieldType.TEXT, help_text="A note about them."),
            ],
            outputs=[
                OutputField("id", "Customer ID"),
                OutputField("email", "Email"),
                OutputField("first_name", "First name"),
                OutputField("last_name", "Last name"),
                OutputField("phone", "Phone"),
                OutputField("created_at", "Created", FieldType.DATETIME),
            ],
            sample={
                "id": "gid://shopify/Customer/1018520244",
                "email": "ada@example.com",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "phone": None,
                "created_at": "2026-11-25T10:00:00Z",
            },
        ),
        Action(
            "adjust_inventory_level",
            "Adjust inventory level",
            "Adds to or removes from an item's available quantity at a location.",
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
                    help_text="gid://shopify/InventoryItem/…",
                ),
                InputField(
                    "delta", "Change", FieldType.INTEGER, required=True, help_text="e.g. -2 or 10."
                ),
                InputField(
                    "reason",
                    "Reason",
                    choices=[
                        Choice("correction", "Correction"),
                        Choice("received", "Received"),
                        Choice("damaged", "Damaged"),
                        Choice("shrinkage", "Shrinkage"),
                        Choice("restock", "Restock"),
                    ],
                    default="correction",
                    help_text="Why the quantity changes.",
                ),
            ],
            outputs=[
                OutputField("inventory_item_id", "Inventory item ID"),
                OutputField("location_id", "Location ID"),
                OutputField("delta", "Change", FieldType.INTEGER),
                OutputField("reason", "Reason"),
                OutputField("created_at", "When", FieldType.DATETIME),
            ],
            sample={
                "inventory_item_id": "gid://shopify/InventoryItem/30322695",
                "location_id": "gid://shopify/Location/124656943",
                "delta": -2,
                "reason": "correction",
                "created_at": "2026-11-25T10:00:00Z",
            },
        ),
        Action(
            "find_order",
            "Find order",
            "Finds an order by its number, e.g. #1001.",
            find_order,
            type=ActionType.SEARCH,
            inputs=[InputField("order_name", "Order", required=True, help_text="#1001 or 1001.")],
            outputs=[
                OutputField("id", "Order ID"),
                OutputField("name", "Order"),
                OutputField("email", "Email"),
                OutputField("created_at", "Created", FieldType.DATETIME),
                OutputField("financial_status", "Payment"),
                OutputField("fulfillment_status", "Fulfillment"),
                OutputField("total", "Total"),
                OutputField("currency", "Currency"),
            ],
            sample={
                "id": "gid://shopify/Order/450789469",
                "name": "#1001",
                "email": "ada@example.com",
                "created_at": "2026-11-25T10:00:00Z",
                "financial_status": "PAID",
                "fulfillment_status": "UNFULFILLED",
                "total": "59.00",
                "currency": "USD",
            },
        ),
    ],
)
