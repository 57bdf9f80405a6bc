"""What the API answers, as typed objects. Each keeps the document it was read from in
``raw``: a field the service adds later is there before this client knows its name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

RunStatus = Literal["queued", "running", "success", "error"]
_STATUSES: dict[str, RunStatus] = {
    "queued": "queued",
    "running": "running",
    "success": "success",
    "error": "error",
}


def _text(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name)
    return "" if value is None else str(value)


def _optional(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    return None if value is None else str(value)


@dataclass(frozen=True)
class App:
    id: str
    slug: str
    title: str
    description: str
    auth_type: str
    categories: list[str]
    action_types: list[str]
    connect_url: str | None
    auth_fields: list[InputField]
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> App:
        links = document.get("links") or {}
        return cls(
            id=_text(document, "id"),
            slug=_text(document, "slug"),
            title=_text(document, "title"),
            description=_text(document, "description"),
            auth_type=_text(document, "auth_type"),
            categories=[str(item.get("slug")) for item in document.get("categories") or []],
            action_types=[str(item) for item in document.get("action_types") or []],
            connect_url=_optional(links, "connect_new_authentication"),
            auth_fields=[InputField.from_json(item) for item in document.get("auth_fields") or []],
            raw=document,
        )


@dataclass(frozen=True)
class Action:
    id: str
    key: str
    slug: str
    """``app.action``: stable across installations, and accepted wherever an id is."""
    app: str
    action_type: str
    title: str
    description: str
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Action:
        return cls(
            id=_text(document, "id"),
            key=_text(document, "key"),
            slug=_text(document, "slug"),
            app=_text(document, "app"),
            action_type=_text(document, "action_type"),
            title=_text(document, "title"),
            description=_text(document, "description"),
            raw=document,
        )


@dataclass(frozen=True)
class Choice:
    id: str
    label: str | None
    value: str

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Choice:
        return cls(_text(document, "id"), _optional(document, "label"), _text(document, "value"))


@dataclass(frozen=True)
class ChoicePage:
    choices: list[Choice]
    page: int
    has_more: bool


@dataclass(frozen=True)
class InputField:
    id: str
    title: str
    value_type: str
    """The field's type, or ARRAY for a list (``items`` then says of what)."""
    is_required: bool
    description: str
    default_value: str
    depends_on: list[str]
    has_dynamic_choices: bool
    choices: list[Choice]
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> InputField:
        return cls(
            id=_text(document, "id"),
            title=_text(document, "title"),
            value_type=_text(document, "value_type"),
            is_required=bool(document.get("is_required")),
            description=_text(document, "description"),
            default_value=_text(document, "default_value"),
            depends_on=[str(item) for item in document.get("depends_on") or []],
            has_dynamic_choices=bool(document.get("has_dynamic_choices")),
            choices=[Choice.from_json(item) for item in document.get("choices") or []],
            raw=document,
        )


@dataclass(frozen=True)
class OutputField:
    id: str
    title: str
    value_type: str
    sample: str | None

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> OutputField:
        return cls(
            id=_text(document, "id"),
            title=_text(document, "title"),
            value_type=_text(document, "value_type"),
            sample=_optional(document, "sample"),
        )


@dataclass(frozen=True)
class Outputs:
    fields: list[OutputField]
    sample: Mapping[str, Any]


@dataclass(frozen=True)
class Authentication:
    id: str
    app: str
    """The app's slug."""
    title: str
    is_expired: bool
    created_at: str | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Authentication:
        return cls(
            id=_text(document, "id"),
            app=_text(document, "app_slug") or _text(document, "app"),
            title=_text(document, "title"),
            is_expired=bool(document.get("is_expired")),
            created_at=_optional(document, "created_at"),
            raw=document,
        )


@dataclass(frozen=True)
class ConnectToken:
    token: str
    url: str
    """The hosted Connect page to send the end user to."""
    app: str | None
    end_user: str | None
    authentication: str | None
    expires_in: int

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ConnectToken:
        return cls(
            token=_text(document, "token"),
            url=_text(document, "url"),
            app=_optional(document, "app"),
            end_user=_optional(document, "end_user"),
            authentication=_optional(document, "authentication"),
            expires_in=int(document.get("expires_in") or 0),
        )


@dataclass(frozen=True)
class RunError:
    code: str
    """user, authentication, partner, system, throttled or system_throttled."""
    title: str
    detail: str
    delay: int
    meta: Mapping[str, Any]

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> RunError:
        return cls(
            code=_text(document, "code"),
            title=_text(document, "title"),
            detail=_text(document, "detail"),
            delay=int(document.get("delay") or 0),
            meta=dict(document.get("meta") or {}),
        )


@dataclass(frozen=True)
class Run:
    id: str
    action: str
    status: RunStatus
    authentication: str | None
    results: list[Any]
    errors: list[RunError]
    attempts: int
    created_at: str | None
    finished_at: str | None
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def finished(self) -> bool:
        return self.status in ("success", "error")

    @property
    def succeeded(self) -> bool:
        return self.status == "success"

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Run:
        status = _STATUSES.get(_text(document, "status"))
        if status is None:
            raise ValueError(f"unknown run status {document.get('status')!r}")
        return cls(
            id=_text(document, "id"),
            action=_text(document, "action"),
            status=status,
            authentication=_optional(document, "authentication"),
            results=list(document.get("results") or []),
            errors=[RunError.from_json(item) for item in document.get("errors") or []],
            attempts=int(document.get("attempts") or 0),
            created_at=_optional(document, "created_at"),
            finished_at=_optional(document, "finished_at"),
            raw=document,
        )


@dataclass(frozen=True)
class RunCreated:
    id: str
    replayed: bool
    """The ``Idempotency-Key`` was seen before: this is the run it made then."""
    idempotency_key: str


@dataclass(frozen=True)
class AuthenticationEvent:
    """``authentication.expired`` (ask the user to reconnect) or ``authentication.recovered``."""

    type: str
    created_at: str
    authentication: str
    """The authentication's id."""
    app: str
    end_user: str | None
    title: str
    is_expired: bool
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> AuthenticationEvent:
        data = document["data"]
        return cls(
            type=_text(document, "type"),
            created_at=_text(document, "created_at"),
            authentication=_text(data, "id"),
            app=_text(data, "app"),
            end_user=_optional(data, "end_user"),
            title=_text(data, "title"),
            is_expired=bool(data.get("is_expired")),
            raw=document,
        )
