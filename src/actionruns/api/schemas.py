"""Request bodies, validated by pydantic; sizes are bounded.

Fields a Zapier client may send that mean nothing here are ignored, as Zapier ignores them
(wrong types are still refused); ``inputs`` may be null, and may be spelled ``input`` as in
Zapier's guides.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from actionruns.sdk.fields import LONE_SURROGATE, unsendable, unstorable


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _storable_json(value: dict[str, Any]) -> dict[str, Any]:
    """What a body holds must be storable and sendable back as it is, on every backend: JSON
    has no Infinity or NaN (Python's parser reads them, and 1e400, anyway), and no text (key
    or value) may hold a lone surrogate, which neither UTF-8 nor PostgreSQL's JSON takes (a
    NUL is data here: JSON stores it as an escape). The error names where, as a JSON pointer
    below the field."""
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:  # not recursive: bodies may nest as deep as the JSON parser allows
        where, item = pending.pop()
        problem = None
        if isinstance(item, float) and not math.isfinite(item):
            problem = "numbers must be finite (JSON has no Infinity or NaN)"
        elif isinstance(item, str):
            problem = unsendable(item)
        elif isinstance(item, dict):
            for key, member in item.items():
                if unsendable(key) is not None:
                    problem = f"a key {LONE_SURROGATE}"
                    break
                pending.append((f"{where}/{key}", member))
        elif isinstance(item, list):
            pending.extend((f"{where}/{index}", member) for index, member in enumerate(item))
        if problem is not None:
            raise ValueError(f"{where or '/'}: {problem}")
    return value


def _storable_text(value: str | None) -> str | None:
    problem = unstorable(value) if value is not None else None
    if problem is not None:
        raise ValueError(f"text {problem}")
    return value


def _none_as_empty(value: Any) -> Any:
    return {} if value is None else value


def _empty_as_none(value: Any) -> Any:
    """The reference's own example for choices sends ``"authentication": {}``: no
    authentication. Any other object is still the wrong type."""
    return None if value == {} else value


JsonObject = Annotated[dict[str, Any], AfterValidator(_storable_json)]
# Every string of a body reaches the database or a response: none may hold what neither takes.
Text = Annotated[str, AfterValidator(_storable_text)]
OptionalText = Annotated[str | None, AfterValidator(_storable_text)]
Inputs = Annotated[JsonObject, BeforeValidator(_none_as_empty)]
AuthenticationId = Annotated[OptionalText, BeforeValidator(_empty_as_none)]
INPUTS_ALIASES = AliasChoices("inputs", "input")


class RunData(_Body):
    """A run, as the reference wraps it in ``data`` or as the guides send it unwrapped."""

    action: Text = Field(
        min_length=1, max_length=200, description="Action id or app_slug.action_key"
    )
    authentication: AuthenticationId = Field(default=None, max_length=64)
    inputs: Inputs = Field(
        default_factory=dict,
        validation_alias=INPUTS_ALIASES,
        description="The action's inputs (the guides call it input)",
    )
    callback_url: OptionalText = Field(default=None, max_length=2048)
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
    app: Text = Field(min_length=1, max_length=64, description="App id or slug")
    title: Text = Field(default="", max_length=255)
    authentication_fields: JsonObject = Field(default_factory=dict)


class AuthenticationCreateRequest(_Body):
    data: AuthenticationData


class ConnectTokenData(_Body):
    app: OptionalText = Field(
        default=None,
        max_length=64,
        description="App id or slug; without it the end user picks one of the client's apps",
    )
    redirect_uri: Text = Field(
        min_length=1, max_length=2048, description="One of the client's registered redirect URIs"
    )
    authentication: OptionalText = Field(
        default=None, max_length=64, description="An authentication to reconnect in place"
    )


class ConnectTokenRequest(_Body):
    data: ConnectTokenData


class EventsSubscriptionData(_Body):
    url: Text = Field(
        min_length=1, max_length=2048, description="https:// URL that receives the events"
    )


class EventsSubscriptionRequest(_Body):
    data: EventsSubscriptionData
