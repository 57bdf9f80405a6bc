"""Request bodies, validated by pydantic; unknown fields are refused, sizes are bounded."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunData(_Strict):
    action: str = Field(
        min_length=1, max_length=200, description="Action id or app_slug.action_key"
    )
    authentication: str | None = Field(default=None, max_length=64)
    inputs: dict[str, Any] = Field(default_factory=dict)
    callback_url: str | None = Field(default=None, max_length=2048)
    dry_run: bool = Field(default=False, description="Validate everything, execute nothing.")


class RunActionRequest(_Strict):
    data: RunData


class FieldsData(_Strict):
    authentication: str | None = Field(default=None, max_length=64)
    inputs: dict[str, Any] = Field(default_factory=dict)


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
    title: str = Field(default="", max_length=255)
    authentication_fields: dict[str, Any] = Field(default_factory=dict)


class AuthenticationCreateRequest(_Strict):
    data: AuthenticationData
