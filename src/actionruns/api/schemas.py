"""Request bodies, validated by pydantic; sizes are bounded.

Fields a Zapier client may send that mean nothing here are ignored, as Zapier ignores them
(wrong types are still refused); ``inputs`` may be null, and may be spelled ``input`` as in
Zapier's guides.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


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


def _none_as_empty(value: Any) -> Any:
    return {} if value is None else value


def _empty_as_none(value: Any) -> Any:
    """The reference's own example for choices sends ``"authentication": {}``: no
    authentication. Any other object is still the wrong type."""
    return None if value == {} else value


JsonObject = Annotated[dict[str, Any], AfterValidator(_finite)]
Inputs = Annotated[JsonObject, BeforeValidator(_none_as_empty)]
AuthenticationId = Annotated[str | None, BeforeValidator(_empty_as_none), AfterValidator(_no_nul)]
INPUTS_ALIASES = AliasChoices("inputs", "input")


class RunData(_Body):
    """A run, as the reference wraps it in ``data`` or as the guides send it unwrapped."""

    action: str = Field(
        min_length=1, max_length=200, description="Action id or app_slug.action_key"
    )
    authentication: AuthenticationId = Field(default=None, max_length=64)
    inputs: Inputs = Field(
        default_factory=dict,
        validation_alias=INPUTS_ALIASES,
        description="The action's inputs (the guides call it input)",
    )
    callback_url: str | None = Field(default=None, max_length=2048)
    dry_run: bool = Field(default=False, description="Validate everything, execute nothing.")


class RunActionRequest(_Body):
    data: RunData


class FieldsData(_Body):
    authentication: AuthenticationId = Field(default=None, max_length=64)
    inputs: Inputs = Field(default_factory=dict, validation_alias=INPUTS_ALIASES)
    # Zapier accepts paging inside data on the field and choice requests too.
    limit: int | None = Field(default=None, ge=1, le=1000)
    offset: int | None = Field(default=None, ge=0, le=1_000_000)


class FieldsRequest(_Body):
    data: FieldsData


class OutputsData(FieldsData):
    fetch_live_samples: bool = False


class OutputsRequest(_Body):
    data: OutputsData


class TestData(FieldsData):
    limit: int | None = Field(default=10, ge=1, le=100)
    offset: int | None = Field(default=0, ge=0, le=1_000_000)


class TestRequest(_Body):
    data: TestData


class AuthenticationData(_Body):
    app: str = Field(min_length=1, max_length=64, description="App id or slug")
    title: Annotated[str, AfterValidator(_no_nul)] = Field(default="", max_length=255)
    authentication_fields: JsonObject = Field(default_factory=dict)


class AuthenticationCreateRequest(_Body):
    data: AuthenticationData


class ConnectTokenData(_Body):
    app: str = Field(min_length=1, max_length=64, description="App id or slug")
    redirect_uri: str = Field(
        min_length=1, max_length=2048, description="One of the client's registered redirect URIs"
    )
    authentication: str | None = Field(
        default=None, max_length=64, description="An authentication to reconnect in place"
    )


class ConnectTokenRequest(_Body):
    data: ConnectTokenData


class EventsSubscriptionData(_Body):
    url: str = Field(
        min_length=1, max_length=2048, description="https:// URL that receives the events"
    )


class EventsSubscriptionRequest(_Body):
    data: EventsSubscriptionData
