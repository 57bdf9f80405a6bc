"""The overlay: a short YAML file that turns an import into a curated app, without code.

``docs/importing.md`` documents every key. Operations and fields are named as the description
names them (an operationId, ``"POST /v1/customers"``, a parameter's or a body property's name,
``address.city`` below the top) or by the key the import gave them; operation names may be
globs. Unknown keys are refused, so a typo is an error, not a silent no-op.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from actionruns.openapi.actions import MAX_DEPTH
from actionruns.openapi.errors import ImportFailed
from actionruns.sdk.app import ActionType
from actionruns.sdk.described.manifest import ExpiredSpec, LimitsSpec, PlacementSpec
from actionruns.sdk.fields import FieldType
from actionruns.sdk.images import ImageRefused, checked_data_uri, image_data_uri


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoicesRule(_Rule):
    """A dropdown filled by another operation (a list endpoint)."""

    operation: str
    value: str = "{id}"
    label: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    page_input: str | None = None
    page_style: Literal["page", "offset", "next"] = "page"
    next: str | None = None  # with page_style next: where the answer links the next page
    first_page: int = 1
    page_size_input: str | None = None
    page_size: int = Field(default=100, ge=1, le=1000)
    where: dict[str, Any] = Field(default_factory=dict)  # only the items with these values

    @model_validator(mode="after")
    def _next_says_where(self) -> ChoicesRule:
        if self.page_style == "next" and not self.next:
            raise ValueError("page_style next needs next: where the answer links the next page")
        return self


class FieldRule(_Rule):
    key: str | None = None
    label: str | None = None
    help_text: str | None = None
    placeholder: str | None = None
    type: FieldType | None = None
    required: bool | None = None
    default: Any = None  # `default: null` drops the description's default
    hidden: bool = False  # left out of the action (the API's own default applies)
    value: Any = None  # always sent as this, not a field
    template: Any = None  # sent as this, its "{field}" strings filled in from the action's
    credential: str | None = None  # sent as this connection field, not a field
    choices: tuple[str, ...] | None = None
    choices_from: ChoicesRule | None = None
    list: bool | None = None  # last: the name shadows the builtin in the class body


class ChoiceRule(_Rule):
    value: str
    label: str | None = None


class ExtraField(_Rule):
    """A field the description does not have, sent through a ``template``."""

    key: str
    label: str
    type: FieldType = FieldType.STRING
    required: bool = False
    help_text: str = ""
    placeholder: str = ""
    default: Any = None
    choices: tuple[str | ChoiceRule, ...] = ()
    choices_from: ChoicesRule | None = None
    list: bool = False  # last: the name shadows the builtin in the class body


class ActionRule(_Rule):
    key: str | None = None
    title: str | None = None
    description: str | None = None
    type: ActionType | None = None
    timeout: float | None = Field(default=None, gt=0)
    fields: dict[str, FieldRule] = Field(default_factory=dict)
    extra_fields: list[ExtraField] = Field(default_factory=list)
    required: list[str] = Field(default_factory=list)
    order: list[str] = Field(default_factory=list)  # these fields first, in this order
    # How many levels of the body's nested objects become fields (deeper ones are JSON).
    flatten: int = Field(default=MAX_DEPTH, ge=0, le=6)
    outputs: list[str] | None = None
    sample: dict[str, Any] | None = None
    results: list[str] | None = None
    extract: dict[str, str] = Field(default_factory=dict)  # output key: "{path.0.in.result}"
    headers: dict[str, str] = Field(default_factory=dict)
    # GraphQL: the selection set to ask for ("{ success issue { id identifier url } }").
    selection: str | None = None


# Where an end user finds a connection's value: a page of the app's (https) and the steps.
HelpUrl = Annotated[str, Field(pattern=r"^https://\S+$")]


class ConnectionField(_Rule):
    """A connection field the description does not declare (a customer's own subdomain)."""

    key: str
    label: str
    help_text: str = ""
    placeholder: str = ""
    help_url: HelpUrl = ""
    help_steps: tuple[str, ...] = ()
    required: bool = True
    secret: bool = False
    default: str | None = None
    choices: tuple[str | ChoiceRule, ...] = ()  # a dropdown: a region, a plan


class AuthFieldRule(_Rule):
    key: str | None = None
    label: str | None = None
    help_text: str | None = None
    placeholder: str | None = None
    help_url: HelpUrl | None = None
    help_steps: tuple[str, ...] | None = None


class BasicRule(_Rule):
    """HTTP Basic's user name and password as templates of the connection's fields."""

    username: str | None = None
    password: str | None = None


class AuthRule(_Rule):
    # A security scheme's name, several used together, or "none".
    scheme: str | list[str] | None = None
    # Security schemes the description lacks, in its own syntax (OpenAPI's Security Scheme
    # Object), added to (or replacing) those it declares.
    schemes: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # How the credential goes on a request, when the scheme does not say it all: Okta's
    # "SSWS {api_key}". ``template`` changes the one placement; ``placements`` replaces all.
    template: str | None = None
    placements: list[PlacementSpec] | None = None
    # Lob's API key as the user name and an empty password: {username: "{api_key}",
    # password: ""}. A field of the scheme that neither template uses is not asked for.
    basic: BasicRule | None = None
    scopes: list[str] | None = None
    # OAuth2: the access each scope grants, in words (over the description's own words).
    scope_descriptions: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, AuthFieldRule] = Field(default_factory=dict)
    extra_fields: list[ConnectionField] = Field(default_factory=list)
    scope_separator: str | None = None
    pkce: bool | None = None
    token_auth_method: Literal["client_secret_post", "client_secret_basic"] | None = None
    authorize_params: dict[str, str] = Field(default_factory=dict)


class TestRule(_Rule):
    operation: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None


class Source(_Rule):
    """Where the description an overlay is for is published (a curated app's record)."""

    repository: str  # owner/name on GitHub
    path: str
    commit: str
    license: str
    note: str = ""


class Overlay(_Rule):
    source: Source | None = None
    key: str | None = None
    title: str | None = None
    description: str | None = None
    categories: list[str] | None = None
    hex_color: str | None = Field(default=None, pattern=r"^#?[0-9a-fA-F]{6}$")
    # The app's own icon: a file beside the overlay (PNG, JPEG, GIF, WebP or SVG, 64 KiB),
    # which load_overlay reads into a data: URI; never a URL that clients would be sent to.
    icon: str | None = None
    base_url: str | None = None
    hook: str | None = None
    auth: AuthRule = AuthRule()
    test: TestRule | None = None
    limits: LimitsSpec | None = None
    transient_statuses: list[int] | None = None
    expired_when: list[ExpiredSpec] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict)  # sent on every request
    # Documents standing in for references to outside the description's folder, by URI
    # (Square's refer to a common.json on its CDN): the importer never fetches them.
    references: dict[str, Any] = Field(default_factory=dict)
    operations: list[str] | None = None  # which to keep (all, if not given)
    exclude: list[str] = Field(default_factory=list)
    fields: dict[str, FieldRule] = Field(default_factory=dict)  # for every action
    actions: dict[str, ActionRule] = Field(default_factory=dict)


def load_overlay(path: Path) -> tuple[Overlay, bytes]:
    """The overlay at ``path``, and its bytes (an upgrade notices when they change)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"the overlay {path} cannot be read: {exc.strerror}.") from None
    try:
        document = yaml.safe_load(data) or {}
    except yaml.YAMLError as exc:
        raise ImportFailed(f"the overlay {path.name} is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise ImportFailed(f"the overlay {path.name} must be a mapping of settings.")
    try:
        overlay = Overlay.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()[:10]
        )
        raise ImportFailed(f"the overlay {path.name} is not right: {problems}") from None
    if overlay.icon is not None:
        overlay = overlay.model_copy(update={"icon": _icon(path.parent, overlay.icon)})
    return overlay, data


def _icon(folder: Path, name: str) -> str:
    """The overlay's icon file (or data: URI) as a checked data: URI, an SVG sanitised."""
    try:
        if name.startswith("data:"):
            return checked_data_uri(name)
        file = folder / name
        if file.resolve().parent != folder.resolve():
            raise ImportFailed(f"icon: {name!r} must be a file beside the overlay.")
        return image_data_uri(file.read_bytes())
    except OSError as exc:
        raise ImportFailed(f"icon: {name} cannot be read: {exc.strerror}.") from None
    except ImageRefused as exc:
        raise ImportFailed(f"icon: {name[:40]}: {exc}.") from None


def matches(pattern: str, names: Iterable[str]) -> bool:
    """Whether an overlay's name (or glob) names one of an operation's or field's names."""
    glob = any(character in pattern for character in "*?[")
    return any(
        fnmatch.fnmatchcase(name, pattern) if glob else name == pattern for name in names if name
    )
