"""Request bodies, validated by pydantic; unknown fields are refused, sizes are bounded."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _finite(value: dict[str, Any]) -> dict[str, Any]:
    """JSON has no Infinity or NaN (Python's parser reads them, and 1e400, anyway): refused
    here, they could be neither stored on PostgreSQL nor sent back in a response."""
    pending: list[Any] = [value]
    while pending:  # not recursive: bodies may nest as deep as the JSON parser allows
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite (JSON has no Infinity or NaN)")
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return value


def _no_nul(value: str | None) -> str | None:
    """Text columns (PostgreSQL's) cannot hold NUL characters, and no id or title has one."""
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_finite)]


class RunData(_Strict):
    action: str = Field(
        min_length=1, max_length=200, description="Action id or app_slug.action_key"
    )
    authentication: Annotated[str | None, AfterValidator(_no_nul)] = Field(
        default=None, max_length=64
    )
    inputs: JsonObject = Field(default_factory=dict)
    callback_url: str | None = Field(default=None, max_length=2048)
    dry_run: bool = Field(default=False, description="Validate everything, execute nothing.")


class RunActionRequest(_Strict):
    data: RunData


class FieldsData(_Strict):
    authentication: Annotated[str | None, AfterValidator(_no_nul)] = Field(
        default=None, max_length=64
    )
    inputs: JsonObject = Field(default_factory=dict)


class FieldsRequest(_Strict):
    data: FieldsData


class OutputsData(FieldsData):
    fetch_live_samples: bool = False


class OutputsRequest(_Strict):
    data: OutputsData


class TestData(FieldsData):
    limit: int | None = Field(default=10, ge=1, le=100)
    offset: int | None = Field(default=0, ge=0)


class TestRequest(_Strict):
    data: TestData


class AuthenticationData(_Strict):
    app: str = Field(min_length=1, max_length=64, description="App id or slug")
    title: Annotated[str, AfterValidator(_no_nul)] = Field(default="", max_length=255)
    authentication_fields: JsonObject = Field(default_factory=dict)


class AuthenticationCreateRequest(_Strict):
    data: AuthenticationData


class ConnectTokenData(_Strict):
    app: str = Field(min_length=1, max_length=64, description="App id or slug")
    redirect_uri: str = Field(
        min_length=1, max_length=2048, description="One of the client's registered redirect URIs"
    )
    authentication: str | None = Field(
        default=None, max_length=64, description="An authentication to reconnect in place"
    )


class ConnectTokenRequest(_Strict):
    data: ConnectTokenData


class EventsSubscriptionData(_Strict):
    url: str = Field(
        min_length=1, max_length=2048, description="https:// URL that receives the events"
    )


class EventsSubscriptionRequest(_Strict):
    data: EventsSubscriptionData
