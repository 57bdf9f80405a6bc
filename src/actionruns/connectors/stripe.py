"""Stripe: create a customer, add an invoice item, find customers by email.

Reference: https://docs.stripe.com/api/customers/create, https://docs.stripe.com/api/invoiceitems/create
(``amount`` in the smallest currency unit), https://docs.stripe.com/api/customers/list
(``email`` filter), https://docs.stripe.com/api/balance/balance_retrieve; form-encoded bodies
with ``metadata[key]`` (https://docs.stripe.com/api/metadata), ``Idempotency-Key`` so a retried
attempt never creates twice (https://docs.stripe.com/api/idempotent_requests), errors as
``{"error": {"type", "code", "message", "param"}}`` (https://docs.stripe.com/api/errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actionruns.sdk import (
    Action,
    ActionType,
    App,
    Auth,
    Context,
    FieldType,
    InputField,
    OutputField,
)
from actionruns.sdk.http import request_json

API = "https://api.stripe.com/v1"


def _idempotency(ctx: Context, action: str) -> dict[str, str]:
    """The run's id: every attempt of one run is one request to Stripe."""
    return {"Idempotency-Key": f"actionruns-{ctx.run_id}-{action}"} if ctx.run_id else {}


async def test_key(ctx: Context) -> str:
    balance = await request_json(ctx, "GET", f"{API}/balance")
    return "Stripe (live mode)" if balance.get("livemode") else "Stripe (test mode)"


def _customer(customer: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: customer.get(key) for key in ("id", "email", "name", "phone", "description", "created")
    }


async def create_customer(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    form = {
        key: inputs[key] for key in ("email", "name", "phone", "description") if inputs.get(key)
    }
    for key, value in (inputs.get("metadata") or {}).items():
        form[f"metadata[{key}]"] = str(value)
    customer = await request_json(
        ctx,
        "POST",
        f"{API}/customers",
        data=form,
        headers=_idempotency(ctx, "create_customer"),
    )
    return _customer(customer)


async def create_invoice_item(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {
        "customer": inputs["customer"],
        "amount": str(int(inputs["amount"])),
        "currency": str(inputs["currency"]).lower(),
    }
    if inputs.get("description"):
        form["description"] = inputs["description"]
    item = await request_json(
        ctx,
        "POST",
        f"{API}/invoiceitems",
        data=form,
        headers=_idempotency(ctx, "create_invoice_item"),
    )
    return {
        key: item.get(key)
        for key in ("id", "customer", "amount", "currency", "description", "date")
    }


async def find_customer(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = await request_json(
        ctx, "GET", f"{API}/customers", params={"email": inputs["email"], "limit": "10"}
    )
    return [_customer(customer) for customer in found["data"]]


CUSTOMER_OUTPUTS = [
    OutputField("id", "Customer ID"),
    OutputField("email", "Email"),
    OutputField("name", "Name"),
    OutputField("phone", "Phone"),
    OutputField("description", "Description"),
    OutputField("created", "Created (Unix time)", FieldType.INTEGER),
]
CUSTOMER_SAMPLE = {
    "id": "cus_NffrFeUfNV2Hib",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "phone": None,
    "description": None,
    "created": 1680893993,
}

app = App(
    key="stripe",
    title="Stripe",
    description="Create customers and invoice items in Stripe, and find customers.",
    auth=Auth.api_key(
        label="Secret key",
        help_text="A secret (sk_…) or restricted (rk_…) key with customers and invoices write.",
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
                InputField("description", "Description", help_text="An internal note."),
                InputField(
                    "metadata", "Metadata", FieldType.DICT, help_text="Key → value, up to 50."
                ),
            ],
            outputs=CUSTOMER_OUTPUTS,
            sample=CUSTOMER_SAMPLE,
        ),
        Action(
            "create_invoice_item",
            "Create invoice item",
            "Adds a line to the customer's next invoice.",
            create_invoice_item,
            inputs=[
                InputField("customer", "Customer ID", required=True, help_text="cus_…"),
                InputField(
                    "amount",
                    "Amount",
                    FieldType.INTEGER,
                    required=True,
                    help_text="In the smallest unit: 1500 is $15.00.",
                ),
                InputField(
                    "currency", "Currency", required=True, default="usd", help_text="ISO code."
                ),
                InputField("description", "Description", help_text="Shown on the invoice."),
            ],
            outputs=[
                OutputField("id", "Invoice item ID"),
                OutputField("customer", "Customer ID"),
                OutputField("amount", "Amount", FieldType.INTEGER),
                OutputField("currency", "Currency"),
                OutputField("description", "Description"),
                OutputField("date", "Date (Unix time)", FieldType.INTEGER),
            ],
            sample={
                "id": "ii_1MtGUtLkdIwHu7ixBYwjAM00",
                "customer": "cus_NffrFeUfNV2Hib",
                "amount": 1099,
                "currency": "usd",
                "description": "Setup fee",
                "date": 1680640231,
            },
        ),
        Action(
            "find_customer",
            "Find customer",
            "Finds customers by email address (exact, case-sensitive, as Stripe stores it).",
            find_customer,
            type=ActionType.SEARCH,
            inputs=[InputField("email", "Email", required=True, help_text="Their email.")],
            outputs=CUSTOMER_OUTPUTS,
            sample=CUSTOMER_SAMPLE,
        ),
    ],
)
