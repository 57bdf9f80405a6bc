"""Shopify's piece calls its REST Admin API (version 2023-10), which no description here covers
(Shopify publishes a GraphQL schema only): its requests are checked against the REST
reference. The connection is custom: the shop's name (its host) and an admin API token."""

from __future__ import annotations

import httpx2

from actionruns.pieces.runtime import PieceRunner
from actionruns.sdk.context import Context
from tests.pieces.emulated import Cases, route, sent
from tests.pieces.standin import Documented, Endpoint, answer, header

CASES = Cases()

SHOP, TOKEN = "ada-cycles", "shpat_0123456789abcdef0123456789abcdef"
# The version the piece pins; Shopify answers a version past its support from the oldest
# one it still supports (https://shopify.dev/docs/api/usage/versioning).
ADMIN = "/admin/api/2023-10"
REFERENCE = "https://shopify.dev/docs/api/admin-rest/2023-10/resources/"
ORDER, FULFILLMENT = 450789469, 255858046
HOST = f"{SHOP}.myshopify.com"


def shopify_answers(request: httpx2.Request) -> httpx2.Response:
    if request.url.path.endswith("/shop.json"):
        return answer({"shop": {"id": 548380009, "name": "Ada Cycles", "myshopify_domain": HOST}})
    if request.url.path.endswith("/customers.json"):
        return answer({"customer": {"id": 207119551, **sent(request)["customer"]}}, status=201)
    event = {"id": 944956395, "order_id": ORDER, **sent(request)["event"]}
    return answer({"fulfillment_event": event}, status=201)


def shopify_documented() -> Documented:
    return Documented(
        (
            Endpoint("GET", f"{ADMIN}/shop.json", REFERENCE + "shop#get-shop"),
            Endpoint(
                "POST",
                f"{ADMIN}/customers.json",
                REFERENCE + "customer#post-customers",
                ("customer",),
            ),
            Endpoint(
                "POST",
                f"{ADMIN}/orders/{{order_id}}/fulfillments/{{fulfillment_id}}/events.json",
                REFERENCE
                + "fulfillmentevent#post-orders-order-id-fulfillments-fulfillment-id-events",
                ("event",),
            ),
        ),
        # https://shopify.dev/docs/api/admin-rest#authentication
        header("X-Shopify-Access-Token", TOKEN),
    )


@CASES.add(
    "shopify",
    (HOST,),
    {"shop_name": SHOP, "admin_token": TOKEN},
    shopify_documented,
    shopify_answers,
)
async def shopify_customer_and_event(
    runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]
) -> None:
    assert await runner.test(ctx) is None  # the piece's own check: it asks for the shop
    inputs = {"email": "ada@example.com", "first_name": "Ada", "accepts_marketing": True}
    customer = await runner.perform(ctx, "create_customer", inputs)
    assert (customer["id"], customer["first_name"]) == (207119551, "Ada")
    consent = {"state": "subscribed", "opt_in_level": "unknown"}
    assert sent(seen[1])["customer"]["email_marketing_consent"] == consent

    action = "create_fulfillment_event"
    statuses = (await runner.choices(ctx, action, "status", {}, 0)).choices
    in_transit = next(choice for choice in statuses if choice.value == "in_transit")
    assert in_transit.label == "In transit"
    inputs = {"order_id": ORDER, "fulfillment_id": FULFILLMENT, "status": in_transit.value}
    event = await runner.perform(ctx, action, inputs)
    assert (event["status"], event["order_id"]) == ("in_transit", ORDER)
    assert [route(r) for r in seen] == [
        f"GET {ADMIN}/shop.json",
        f"POST {ADMIN}/customers.json",
        f"POST {ADMIN}/orders/{ORDER}/fulfillments/{FULFILLMENT}/events.json",
    ]
    assert all(r.url.host == HOST for r in seen)
