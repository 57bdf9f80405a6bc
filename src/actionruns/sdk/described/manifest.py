"""An app described as data: the manifest an import makes and the runtime turns into an ``App``.

A manifest says everything a run needs and nothing it must work out again: the fields of
each action, where each field's value goes in the HTTP request (path, query, header, cookie
or a place in the body, with its serialization style), how credentials go on a request, which
operation tests a connection and which one lists a dropdown's choices. The importer resolves
the description once; no request ever reads it again.

Stored as JSON (``model_dump(mode="json")``), in the database for imported apps and beside the
module for curated ones. ``FORMAT`` changes when a stored manifest would be read differently.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from actionruns.sdk.app import DEFAULT_HEX_COLOR, KEY_PATTERN, ActionType
from actionruns.sdk.auth import AuthType
from actionruns.sdk.fields import FieldType
from actionruns.sdk.images import checked_data_uri
from actionruns.sdk.limits import LimitScope

FORMAT: Literal[1] = 1

Location = Literal["path", "query", "header", "cookie", "body"]
BodyKind = Literal["json", "form", "multipart"]
TokenAuthMethod = Literal["client_secret_post", "client_secret_basic"]
# OpenAPI's serialization styles (https://spec.openapis.org/oas/v3.1.0#style-values).
Style = Literal[
    "simple", "label", "matrix", "form", "spaceDelimited", "pipeDelimited", "deepObject"
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceSpec(_Model):
    value: str
    label: str | None = None


class DynamicChoicesSpec(_Model):
    """Choices listed by another operation of the app (a list endpoint).

    ``inputs`` are that operation's inputs; a string in them may name fields of the action
    being filled in (``"{project}"``), which then come first in the form (``depends_on``).
    ``value`` and ``label`` are templates over each listed item (``"{id}"``,
    ``"{name} ({email})"``), with ``.`` into nested objects (``"{owner.login}"``).
    """

    operation: str
    value: str
    label: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    # Paging, when the list is long: the source's input that takes the page number (or, with
    # ``page_style: offset``, the number of items to skip) and the one that takes the size.
    # With ``page_style: next``, ``next`` is where an answer says the next page, a dotted
    # path to its link (Klaviyo's ``links.next``, Twilio's ``meta.next_page_url``), whose
    # query the next request takes, or to a bare cursor for ``page_input``.
    page_input: str | None = None
    page_style: Literal["page", "offset", "next"] = "page"
    next: str | None = None
    first_page: int = 1
    page_size_input: str | None = None
    page_size: int = Field(default=100, ge=1, le=1000)
    # Only the items with these values (paths into each item, as in ``value``): DeepL's
    # languages that can be a target, a list's active records.
    where: dict[str, Any] = Field(default_factory=dict)


class FieldSpec(_Model):
    key: str
    label: str
    type: FieldType = FieldType.STRING
    required: bool = False
    default: Any = None
    help_text: str = ""
    placeholder: str = ""
    # Where an end user finds a connection's value: a page of the app's and the steps there.
    help_url: str = Field(default="", pattern=r"^(https://\S+)?$")
    help_steps: tuple[str, ...] = ()
    choices: tuple[ChoiceSpec, ...] = ()
    dynamic: DynamicChoicesSpec | None = None
    list: bool = False
    secret: bool = False
    # The field's own name where it came from, when not its key (a piece's camelCase prop).
    name: str = ""
    # Choices, or a set of fields, that the app's runner lists (a piece's dropdown or dynamic
    # property), given the values of ``depends_on``.
    runner: Literal["choices", "fields"] | None = None
    depends_on: tuple[str, ...] = ()


class Binding(_Model):
    """Where one value goes in a request.

    The value is an input field's (``field``), a credential's (``credential``), fixed
    (``value``) or made of the action's fields (``template``: a value whose ``{field}``
    strings are filled in, see ``templates.fill``). ``name`` is the parameter's name; in a
    body, ``path`` is where the value sits in the body object (empty: it is the whole body).
    """

    location: Location
    name: str = ""
    path: tuple[str, ...] = ()
    field: str | None = None
    credential: str | None = None
    value: Any = None
    template: Any = None
    style: Style | None = None
    explode: bool | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Binding:
        sources = [self.field is not None, self.credential is not None, self.template is not None]
        if sum(sources) > 1:
            raise ValueError(
                "a binding takes its value from a field, a credential or a template, not two"
            )
        return self


class RequestSpec(_Model):
    method: str
    path: str  # after the base URL, with {name} for path parameters
    bindings: tuple[Binding, ...] = ()
    body: BodyKind | None = None
    # A JSON body the description requires though nothing of it is asked (Xero's "email
    # invoice" takes an empty object): ``{}`` is sent.
    empty_body: bool = False
    headers: dict[str, str] = Field(default_factory=dict)
    # Where the result is in the answer: a path of keys (Asana's ``data``, Stripe's lists'
    # ``data``); empty: the answer itself.
    results: tuple[str, ...] = ()
    # Where this request goes, when not the app's base URL (Box's uploads, say).
    base_url: str | None = None
    # Where an answer that is not an HTTP error may still say it failed: a non-empty list
    # there is a refusal (GraphQL's "errors").
    errors: tuple[str, ...] = ()
    # Outputs taken from deep in each result, by template: a chat completion's reply is
    # ``{"reply": "{choices.0.message.content}"}``.
    extract: dict[str, str] = Field(default_factory=dict)
    # The answer is a file (a translated document, speech): the result is the file as a
    # ``data:`` URI (what a file field takes), its name, type and size.
    answer_file: bool = False


class OutputSpec(_Model):
    key: str
    label: str
    type: FieldType = FieldType.STRING


class OperationSpec(_Model):
    """One operation of the API: an action, or (``hidden``) only a helper that lists choices
    or tests a connection."""

    key: str
    title: str
    description: str
    type: ActionType = ActionType.WRITE
    hidden: bool = False
    inputs: tuple[FieldSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    sample: dict[str, Any] = Field(default_factory=dict)
    # None: the app's runner performs it (a piece's action, run by the Node bridge).
    request: RequestSpec | None = None
    # What it came from in the description: "POST /v1/customers" (and the operationId), or
    # the piece's own name of the action.
    source: str = ""
    timeout: float | None = None

    @property
    def http(self) -> RequestSpec:
        """Its HTTP request, which every operation has but those the app's runner runs."""
        if self.request is None:
            raise ValueError(f"{self.key} is run by the app's runner, not by a request")
        return self.request

    @property
    def target(self) -> str:
        """What it does to the app: its request's method and path, or what the runner runs."""
        if self.request is None:
            return f"runs {self.source or self.key}"
        return f"{self.request.method} {self.request.path}"


class PlacementSpec(_Model):
    """A credential sent on every request: ``template`` formatted with the credentials."""

    location: Literal["header", "query", "cookie"]
    name: str
    template: str


class BasicSpec(_Model):
    """HTTP Basic made from the credentials: templates of the user name and password."""

    username: str = "{username}"
    password: str = "{password}"  # noqa: S105 (a template)


class OAuth2Spec(_Model):
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    scope_descriptions: dict[str, str] = Field(default_factory=dict)  # scope: the access, in words
    scope_separator: str = " "
    token_auth_method: TokenAuthMethod = "client_secret_post"  # noqa: S105 (a method name)
    pkce: bool = True
    authorize_params: dict[str, str] = Field(default_factory=dict)


class ClientCredentialsSpec(_Model):
    """OAuth2's client credentials grant: the user gives a client id and secret, each run
    gets (and caches) an access token from ``token_url``."""

    token_url: str
    scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    token_auth_method: TokenAuthMethod = "client_secret_basic"  # noqa: S105 (a method name)


class AuthSpec(_Model):
    type: AuthType = AuthType.NONE
    fields: tuple[FieldSpec, ...] = ()
    placements: tuple[PlacementSpec, ...] = ()
    basic: BasicSpec | None = None
    oauth2: OAuth2Spec | None = None
    client_credentials: ClientCredentialsSpec | None = None
    # Which scheme(s) of the description this is, for the import report and upgrades.
    scheme: str = ""


class TestSpec(_Model):
    """A connection test: run ``operation`` (with ``inputs``); ``label`` names the account
    from its answer."""

    operation: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None


class ExpiredSpec(_Model):
    """An answer that means the connection's credentials no longer work although its status
    is not 401: Algolia, Meilisearch and Discourse answer a revoked key with a 403 that says
    so, and other 403s mean only that this key may not do this."""

    status: int = Field(ge=400, le=499)
    contains: str = Field(min_length=1)  # in the answer's body


class RateSpec(_Model):
    runs: int = Field(ge=1)
    seconds: float = Field(gt=0)


class LimitsSpec(_Model):
    concurrency: int | None = Field(default=None, ge=1)
    rate: RateSpec | None = None
    per: LimitScope = LimitScope.AUTHENTICATION


class SourceSpec(_Model):
    """The description an app was made from."""

    kind: Literal["openapi", "swagger", "graphql", "manifest", "activepieces"] = "openapi"
    title: str = ""
    version: str = ""  # the API's version (info.version)
    spec_version: str = ""  # "3.1.0", "2.0"
    file: str = ""
    sha256: str = ""  # of the description's files, in order
    license: str = ""
    overlay_sha256: str = ""


class PieceSpec(_Model):
    """An Activepieces piece, installed from the npm registry, that the app's runner runs."""

    package: str  # @activepieces/piece-slack
    version: str  # exact, as installed
    integrity: str  # the registry's hash of the package (sha512-…)
    directory: str  # where it was installed (the runner may be told another)
    license: str = ""
    # Which of the piece's auths the app's connections are (a piece may offer several), its
    # type there, and whether the piece's framework wants values tagged with their type.
    auth_index: int = 0
    auth_type: str = ""
    typed_auth: bool = False
    # A piece of the oldest framework takes the connection as this prop of each action.
    auth_prop: str = ""


class AppManifest(_Model):
    format: Literal[1] = FORMAT
    key: str
    title: str
    description: str
    categories: tuple[str, ...] = ()
    hex_color: str = DEFAULT_HEX_COLOR
    icon: str | None = None  # the app's own icon, a data: URI (checked: sdk.images)
    source: SourceSpec = SourceSpec()
    # Every request's URL starts here; ``{name}`` stands for a credential (a customer's own
    # subdomain, say), checked to be one host label or path segment when it is used.
    base_url: str
    auth: AuthSpec = AuthSpec()
    test: TestSpec | None = None
    limits: LimitsSpec | None = None
    # HTTP statuses worth retrying besides 5xx and 429 (a vendor's 409 on a busy record).
    transient_statuses: tuple[int, ...] = (408,)
    # Answers that mean the credentials no longer work, besides 401.
    expired_when: tuple[ExpiredSpec, ...] = ()
    operations: tuple[OperationSpec, ...] = ()
    # A module with hooks for what a manifest cannot say (see ``actionruns.sdk.described``).
    hook: str | None = None
    piece: PieceSpec | None = None

    @field_validator("icon")
    @classmethod
    def _checked_icon(cls, icon: str | None) -> str | None:
        return checked_data_uri(icon) if icon is not None else None

    @model_validator(mode="after")
    def _consistent(self) -> AppManifest:
        if not KEY_PATTERN.match(self.key):
            raise ValueError(f"app key {self.key!r} must be snake_case")
        if self.hook is None and any(op.request is None for op in self.operations):
            raise ValueError("an operation without a request needs a hook module that runs it")
        keys = [operation.key for operation in self.operations]
        if len(keys) != len(set(keys)):
            duplicated = sorted({key for key in keys if keys.count(key) > 1})
            raise ValueError(f"operation keys used twice: {', '.join(duplicated)}")
        known = set(keys)
        referenced = [
            (f"{operation.key}.{spec.key}", spec.dynamic.operation)
            for operation in self.operations
            for spec in operation.inputs
            if spec.dynamic is not None
        ]
        if self.test is not None:
            referenced.append(("test", self.test.operation))
        for where, target in referenced:
            if target not in known:
                raise ValueError(f"{where} refers to an operation {target!r} the app lacks")
        return self

    def to_file(self) -> str:
        """The manifest as a file: what differs from the defaults, the format first, so that
        a reader knows what it holds."""
        values = self.model_dump(mode="json", exclude_defaults=True)
        return json.dumps({"format": FORMAT, **values}, indent=1) + "\n"

    def operation(self, key: str) -> OperationSpec | None:
        return next((op for op in self.operations if op.key == key), None)

    @property
    def actions(self) -> list[OperationSpec]:
        return [operation for operation in self.operations if not operation.hidden]
