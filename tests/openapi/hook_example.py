"""A hook module, as an overlay names one: what a manifest cannot say."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx2

from actionruns.sdk import Context


def before_request(ctx: Context, operation: str, request: httpx2.Request) -> None:
    """Sign each request (a vendor that wants an HMAC of the body)."""
    digest = hashlib.sha256(request.content + str(ctx.credentials["api_key"]).encode())
    request.headers["X-Signature"] = digest.hexdigest()


def after_response(ctx: Context, operation: str, response: httpx2.Response, data: Any) -> Any:
    """Answers with the pet's name in capitals (a vendor's odd shape, put right)."""
    if operation == "show_pet_by_id" and isinstance(data, dict):
        return {**data, "name": str(data.get("name", "")).title()}
    return data


async def test(ctx: Context) -> str:
    return f"key ending {str(ctx.credentials['api_key'])[-4:]}"
