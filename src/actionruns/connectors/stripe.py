"""Stripe: create a customer, add an invoice item, find customers by email.

Reference: customers (https://docs.stripe.com/api/customers/create: POST /v1/customers with
``email``, ``name``, ``phone``, ``description``, ``metadata[key]``;
https://docs.stripe.com/api/customers/list: GET /v1/customers with the case-sensitive
``email`` filter, ``limit`` and ``starting_after``, answering ``{"object": "list", "data",
"has_more"}``), invoice items (https://docs.stripe.com/api/invoiceitems/create: POST
/v1/invoiceitems with ``customer`` and either ``amount`` in the smallest currency unit with
``currency``, or ``pricing[price]`` with ``quantity``; ``pricing`` replaced the top-level
``price`` in 2025-03-31.basil,
https://docs.stripe.com/changelog/basil/2025-03-31/invoice-pricing-configurations, so the
version is pinned with ``Stripe-Version``: https://docs.stripe.com/api/versioning), the
connection test (https://docs.stripe.com/api/balance/balance_retrieve). Bodies are
form-encoded with bracket notation (https://docs.stripe.com/api/metadata). Auth:
``Authorization: Bearer <secret key>`` (https://docs.stripe.com/api/authentication).
``Idempotency-Key`` (https://docs.stripe.com/api/idempotent_requests) is the run's id, so a
retried attempt gets the first attempt's answer instead of creating twice. Errors
(https://docs.stripe.com/api/errors, https://docs.stripe.com/error-low-level):
``{"error": {"type", "code", "message", "param"}}``; 401 a bad key; 402 a failed request; 409
a conflict with a concurrent request (same idempotency key), worth retrying; 429 too many
requests (https://docs.stripe.com/rate-limits); ``Stripe-Should-Retry: true|false`` overrides
the status (a 500 saved under an idempotency key would only come back again).
"""

from __future__ import annotations

import hashlib
import json
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
from actionruns.sdk.http import error_message, raise_for_status, retry_after_seconds
from actionruns.sdk.pagination import cursor_page

API = "https://api.stripe.com/v1"
VERSION = "2025-03-31.basil"
HEADERS = {"Stripe-Version": VERSION}
CUSTOMERS_PER_PAGE = 100
THROTTLE_DELAY = 10.0


def _raise_for_stripe(response: httpx2.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    meta = {"status": status}
    should_retry = response.headers.get("stripe-should-retry")
    if status == 401:
        raise_for_status(response)
    if status == 429:
        delay = retry_after_seconds(response, default=THROTTLE_DELAY)
        raise ThrottledError(error_message(response), delay=delay, meta=meta)
    if should_retry == "true" or (status == 409 and should_retry != "false"):
        raise TransientError(error_message(response), meta=meta)
    if should_retry == "false":  # e.g. a 500 saved under the idempotency key
        raise HaltError(error_message(response), meta=meta)
    raise_for_status(response)


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    headers = {**HEADERS, **request.pop("headers", {})}
    response = await ctx.http.request(method, f"{API}{path}", headers=headers, **request)
    _raise_for_stripe(response)
    return response.json()


def _idempotency(ctx: Context, action: str, form: Mapping[str, str]) -> dict[str, str]:
    """One key per run: every attempt of a run is the same request to Stripe. Outside a run
    (replays), a digest of the request."""
    if ctx.run_id:
        return {"Idempotency-Key": f"actionruns-{ctx.run_id}-{action}"}
    digest = hashlib.sha256(json.dumps([action, form], sort_keys=True).encode()).hexdigest()
    return {"Idempotency-Key": f"actionruns-{digest[:32]}"}


async def test_key(ctx: Context) -> str:
    balance = await _call(ctx, "GET", "/balance")
    return "Stripe (live mode)" if balance.get("livemode") else "Stripe (test mode)"


def _label(customer: Mapping[str, Any]) -> str:
    name, email = customer.get("name"), customer.get("email")
    if name and email:
        return f"{name} <{email}> ({customer['id']})"
    return f"{name or email} ({customer['id']})" if name or email else str(customer["id"])


async def customer_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(cursor: str | None) -> tuple[list[Choice], str | None]:
        params = {"limit": str(CUSTOMERS_PER_PAGE)}
        if cursor:
            params["starting_after"] = cursor
        found = await _call(ctx, "GET", "/customers", params=params)
        customers = found["data"]
        choices = [Choice(customer["id"], _label(customer)) for customer in customers]
        more = found.get("has_more") and customers
        return choices, customers[-1]["id"] if more else None

    return await cursor_page(fetch, page)


def _customer(customer: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": customer["id"],
        "email": customer.get("email"),
        "name": customer.get("name"),
        "phone": customer.get("phone"),
        "description": customer.get("description"),
        "metadata": dict(customer.get("metadata") or {}),
        "created": customer.get("created"),
        "livemode": customer.get("livemode"),
    }


async def create_customer(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    form = {
        key: str(inputs[key])
        for key in ("email", "name", "phone", "description")
        if inputs.get(key)
    }
    for key, value in (inputs.get("metadata") or {}).items():
        form[f"metadata[{key}]"] = str(value)
    headers = _idempotency(ctx, "create_customer", form)
    return _customer(await _call(ctx, "POST", "/customers", data=form, headers=headers))


async def create_invoice_item(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    amount, price = inputs.get("amount"), inputs.get("price")
    if (amount is None) == (not price):
        raise HaltError("Give either an amount (with its currency) or a price, not both.")
    form = {"customer": str(inputs["customer"])}
    if amount is not None:
        if not inputs.get("currency"):
            raise HaltError("An amount needs its currency, e.g. usd.")
        form["amount"] = str(int(amount))
        form["currency"] = str(inputs["currency"]).strip().lower()
    else:
        form["pricing[price]"] = str(price)
        form["quantity"] = str(int(inputs.get("quantity") or 1))
        if inputs.get("currency"):
            form["currency"] = str(inputs["currency"]).strip().lower()
    if inputs.get("description"):
        form["description"] = str(inputs["description"])
    headers = _idempotency(ctx, "create_invoice_item", form)
    item = await _call(ctx, "POST", "/invoiceitems", data=form, headers=headers)
    details = (item.get("pricing") or {}).get("price_details") or {}
    return {
        "id": item["id"],
        "customer": item.get("customer"),
        "amount": item.get("amount"),
        "currency": item.get("currency"),
        "description": item.get("description"),
        "price": details.get("price"),
        "quantity": item.get("quantity"),
        "invoice": item.get("invoice"),
        "date": item.get("date"),
    }


async def find_customer(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    params = {"email": str(inputs["email"]).strip(), "limit": "10"}
    found = await _call(ctx, "GET", "/customers", params=params)
    return [_customer(customer) for customer in found["data"]]


CUSTOMER_OUTPUTS = [
    OutputField("id", "Customer ID"),
    OutputField("email", "Email"),
    OutputField("name", "Name"),
    OutputField("phone", "Phone"),
    OutputField("description", "Description"),
    OutputField("metadata", "Metadata", FieldType.DICT),
    OutputField("created", "Created (Unix time)", FieldType.INTEGER),
    OutputField("livemode", "Live mode", FieldType.BOOLEAN),
]
CUSTOMER_SAMPLE: dict[str, Any] = {
    "id": "cus_NffrFeUfNV2Hib",
    "email": "jennyrosen@example.com",
    "name": "Jenny Rosen",
    "phone": None,
    "description": None,
    "metadata": {"crm_id": "512"},
    "created": 1680893993,
    "livemode": False,
}

app = App(
    key="stripe",
    title="Stripe",
    description="Create customers and invoice items in Stripe, and find customers by email.",
    auth=Auth.api_key(
        label="Secret key",
        help_text="A secret key (sk_…), or a restricted key (rk_…) with Customers and Invoices "
        "write and Balance read (the connection test); Dashboard → Developers → API keys.",
        help_url="https://dashboard.stripe.com/apikeys",
        help_steps=(
            "Sign in to the Stripe Dashboard.",
            "Open Developers, then API keys.",
            "Reveal the secret key, or create a restricted key, and copy it.",
        ),
    ),
    test=test_key,
    categories=("payments", "accounting"),
    actions=[
        Action(
            "create_customer",
            "Create customer",
            "Creates a customer.",
            create_customer,
            inputs=[
                InputField("email", "Email", help_text="Their email address."),
                InputField("name", "Name", help_text="Full name or business name."),
                InputField("phone", "Phone", help_text="Their phone number."),
                InputField(
                    "description",
                    "Description",
                    help_text="An internal note shown in the Dashboard.",
                ),
                InputField(
                    "metadata",
                    "Metadata",
                    FieldType.DICT,
                    help_text="Key → value pairs to store on the customer (up to 50).",
                ),
            ],
            outputs=CUSTOMER_OUTPUTS,
            sample=CUSTOMER_SAMPLE,
        ),
        Action(
            "create_invoice_item",
            "Create invoice item",
            "Adds a line to the customer's next invoice: an amount, or a price times a quantity.",
            create_invoice_item,
            inputs=[
                InputField(
                    "customer",
                    "Customer",
                    required=True,
                    dynamic_choices=customer_choices,
                    help_text="The customer to bill (cus_…).",
                ),
                InputField(
                    "amount",
                    "Amount",
                    FieldType.INTEGER,
                    help_text="In the currency's smallest unit: 1500 is $15.00; negative for a "
                    "credit. Leave empty to bill a price instead.",
                ),
                InputField(
                    "currency",
                    "Currency",
                    help_text="Three-letter ISO code, e.g. usd; required with an amount.",
                ),
                InputField(
                    "price",
                    "Price ID",
                    help_text="A price (price_…) to bill instead of an amount.",
                ),
                InputField(
                    "quantity",
                    "Quantity",
                    FieldType.INTEGER,
                    help_text="How many of the price (1 if empty).",
                ),
                InputField(
                    "description", "Description", help_text="The line's text on the invoice."
                ),
            ],
            outputs=[
                OutputField("id", "Invoice item ID"),
                OutputField("customer", "Customer ID"),
                OutputField("amount", "Amount", FieldType.INTEGER),
                OutputField("currency", "Currency"),
                OutputField("description", "Description"),
                OutputField("price", "Price ID"),
                OutputField("quantity", "Quantity", FieldType.INTEGER),
                OutputField("invoice", "Invoice ID"),
                OutputField("date", "Date (Unix time)", FieldType.INTEGER),
            ],
            sample={
                "id": "ii_1MtGUtLkdIwHu7ixBYwjAM00",
                "customer": "cus_NeZei8imSbMVvi",
                "amount": 1099,
                "currency": "usd",
                "description": "T-shirt",
                "price": "price_1MtGUsLkdIwHu7ix1be5Ljaj",
                "quantity": 1,
                "invoice": None,
                "date": 1680640231,
            },
        ),
        Action(
            "find_customer",
            "Find customer",
            "Finds customers by email address (exact and case-sensitive, as Stripe stores it), "
            "newest first.",
            find_customer,
            type=ActionType.SEARCH,
            inputs=[InputField("email", "Email", required=True, help_text="Their email address.")],
            outputs=CUSTOMER_OUTPUTS,
            sample=CUSTOMER_SAMPLE,
        ),
    ],
)
