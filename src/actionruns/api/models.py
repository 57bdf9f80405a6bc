"""The documents the API answers with, as pydantic models: for the OpenAPI document (and so
for generated clients and the checks of every answer the tests see), not to build answers,
which ``documents`` and ``engine.documents`` write as plain dicts (validating each on its
way out would cost every request time)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from actionruns.sdk.auth import AuthType
from actionruns.sdk.fields import FieldType
from actionruns.sdk.printed import MAX_PRINTED_CHARACTERS

ZapierActionType = Literal[
    "READ", "READ_BULK", "SEARCH", "SEARCH_AND_WRITE", "SEARCH_OR_WRITE", "WRITE"
]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class ErrorSource(BaseModel):
    pointer: str | None = None
    parameter: str | None = None
    header: str | None = None


class ErrorObject(BaseModel):
    status: int
    code: str
    title: str
    detail: str
    source: ErrorSource | None
    meta: dict[str, Any] | None


class ErrorResponse(BaseModel):
    # OAuth's token endpoint adds RFC 6749's error and error_description beside the list.
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "errors": [
                        {
                            "status": 400,
                            "code": "invalid",
                            "title": "Invalid input",
                            "detail": "Field required",
                            "source": {"pointer": "/data/action"},
                            "meta": None,
                        }
                    ]
                }
            ]
        },
    )
    errors: list[ErrorObject]


class PageLinks(BaseModel):
    next: str | None = Field(description="The next page, null on the last")
    previous: str | None = Field(description="The previous page, null on the first")
    prev: str | None = Field(description="previous, as Zapier's reference names it")


class PageMeta(BaseModel):
    count: int = Field(description="Items in all pages")
    limit: int | None = Field(description="Items per page; null when all are in this one")
    offset: int


class Choice(BaseModel):
    id: str
    type: Literal["choice"]
    label: str | None
    value: str


class InputField(BaseModel):
    type: Literal["input_field"]
    id: str
    title: str
    is_required: bool
    value_type: str = Field(description="The field's type, or ARRAY for a list")
    default_value: str
    depends_on: list[str]
    invalidates_input_fields: bool
    placeholder: str
    description: str
    items: dict[str, str] = Field(description='{"type": ...} of a list\'s items, else {}')
    has_dynamic_choices: bool
    choices: list[Choice]
    format: str | None = Field(default=None, description="SELECT for a field with choices")


class AuthField(InputField):
    """A connection's field, with where an end user finds its value (an extension)."""

    help_url: str | None = Field(
        description="A page of the app's (https) where the value is found; null if none"
    )
    help_steps: list[str] = Field(description="The steps to take there, in order")


class AuthScope(BaseModel):
    scope: str = Field(description="As the OAuth2 provider names it")
    description: str | None = Field(description="The access it grants, in words; null if unsaid")


class OutputField(BaseModel):
    type: Literal["output_field"]
    id: str = Field(description="A nested field's path joined with __")
    title: str
    value_type: FieldType
    sample: str | None = None


class Category(BaseModel):
    slug: str


class AppLinks(BaseModel):
    connect_new_authentication: str | None = Field(
        description="The hosted Connect page; null when the app needs no connection"
    )


class App(BaseModel):
    model_config = _examples(
        {
            "id": "6d5e9a4c-3d0f-5b6e-9c2a-1f4b8e7d0a11",
            "type": "app",
            "slug": "slack",
            "title": "Slack",
            "description": "Team messaging",
            "image": "https://actionruns.example/v2/apps/slack/icon.svg?size=128",
            "images": {"url_16x16": "https://actionruns.example/v2/apps/slack/icon.svg?size=16"},
            "hex_color": "4a154b",
            "categories": [{"slug": "communication"}],
            "action_types": ["READ", "WRITE"],
            "links": {"connect_new_authentication": "https://actionruns.example/connect/slack"},
            "auth_type": "oauth2",
            "source": "connector",
            "auth_fields": [],
            "auth_scopes": [
                {"scope": "chat:write", "description": "Send messages as the app"},
            ],
        }
    )
    id: str
    type: Literal["app"]
    slug: str
    title: str
    description: str
    image: str
    images: dict[str, str]
    hex_color: str
    categories: list[Category]
    action_types: list[ZapierActionType]
    links: AppLinks
    auth_type: AuthType
    source: str = Field(description="connector, or openapi for an imported description")
    auth_fields: list[AuthField]
    auth_scopes: list[AuthScope] = Field(
        description="OAuth2: the scopes a connection asks for, in the order asked; else []"
    )


class Action(BaseModel):
    model_config = _examples(
        {
            "id": "core:8f1c2a3b-5d6e-5f70-8a9b-0c1d2e3f4a5b",
            "key": "send_message",
            "slug": "slack.send_message",
            "app": "6d5e9a4c-3d0f-5b6e-9c2a-1f4b8e7d0a11",
            "type": "action",
            "action_type": "WRITE",
            "is_instant": False,
            "title": "Send Message",
            "description": "Posts a message to a channel",
        }
    )
    id: str
    key: str
    slug: str = Field(description="app_slug.action_key, stable across installations")
    app: str
    type: Literal["action"]
    action_type: ZapierActionType
    is_instant: bool
    title: str
    description: str


class Authentication(BaseModel):
    model_config = _examples(
        {
            "type": "authentication",
            "id": "auth_3kq9",
            "app": "6d5e9a4c-3d0f-5b6e-9c2a-1f4b8e7d0a11",
            "app_slug": "slack",
            "is_expired": False,
            "title": "Acme workspace",
            "created_at": "2026-12-04T18:00:00Z",
        }
    )
    type: Literal["authentication"]
    id: str
    app: str
    app_slug: str
    is_expired: bool
    title: str
    created_at: str | None


class AuthenticationTest(BaseModel):
    passed: bool
    label: str | None = Field(description="Who the credentials belong to, as the app says")


class TestedAuthentication(Authentication):
    test: AuthenticationTest


class ConnectToken(BaseModel):
    model_config = _examples(
        {
            "type": "connect_token",
            "token": "ct_3f9a...",
            "url": "https://actionruns.example/connect/slack?token=ct_3f9a...",
            "app": "slack",
            "end_user": "u-42",
            "authentication": None,
            "expires_in": 600,
        }
    )
    type: Literal["connect_token"]
    token: str
    url: str = Field(description="The Connect page to open with the token")
    app: str | None = Field(description="The app to connect; null: the end user picks one")
    end_user: str | None
    authentication: str | None = Field(description="The authentication it reconnects")
    expires_in: int


class _Page(BaseModel):
    links: PageLinks
    meta: PageMeta


class AppsPage(_Page):
    data: list[App]


class ActionsPage(_Page):
    data: list[Action]


class InputFieldsPage(_Page):
    data: list[InputField]


class OutputFieldsPage(_Page):
    data: list[OutputField]
    sample: dict[str, Any] = Field(description="A sample of the action's result")


class TestResultsPage(_Page):
    data: list[dict[str, Any]] = Field(description="What the action returned")


class AuthenticationsPage(_Page):
    data: list[Authentication]


class ConnectTokensPage(_Page):
    data: list[ConnectToken]


class ChoicesMeta(BaseModel):
    page: int


class ChoicesPage(BaseModel):
    links: PageLinks
    meta: ChoicesMeta
    data: list[Choice]


class AuthenticationResponse(BaseModel):
    data: Authentication


class AuthenticationTestResponse(BaseModel):
    data: TestedAuthentication


class EventsSubscription(BaseModel):
    type: Literal["events_subscription"]
    url: str | None = Field(description="Where the events go; null when none")
    events: list[str]


class EventsSubscriptionResponse(BaseModel):
    data: EventsSubscription


class RunError(BaseModel):
    code: str = Field(
        description="user, authentication, partner, system, throttled or system_throttled"
    )
    title: str
    detail: str
    delay: int = Field(description="Whole seconds before a retry may work; 0 for none")
    meta: dict[str, Any]


class CallbackState(BaseModel):
    url: str
    status: Literal["pending", "delivered", "failed"] | None
    attempts: int
    error: str | None


class Run(BaseModel):
    model_config = _examples(
        {
            "type": "run",
            "id": "run_01hx3",
            "run_id": "run_01hx3",
            "action": "email.send_email",
            "authentication": "auth_3kq9",
            "status": "success",
            "results": [{"message_id": "<1@actionruns.example>"}],
            "errors": [],
            "attempts": 1,
            "created_at": "2026-12-04T18:00:00Z",
            "started_at": "2026-12-04T18:00:00Z",
            "finished_at": "2026-12-04T18:00:01Z",
        }
    )
    type: Literal["run"]
    id: str
    run_id: str = Field(description="id, as Zapier's guides read it")
    action: str = Field(description="app_slug.action_key")
    authentication: str | None
    status: Literal["queued", "running", "success", "error"]
    results: list[Any]
    errors: list[RunError]
    attempts: int
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    callback: CallbackState | None = Field(
        default=None, description="Only for a run that asked for a callback"
    )


class RunResponse(BaseModel):
    data: Run


class RunsMeta(BaseModel):
    limit: int
    next_cursor: str | None = Field(description="The cursor of the next page, null on the last")


class RunsPage(BaseModel):
    links: PageLinks
    meta: RunsMeta
    data: list[Run]


class AttemptRequest(BaseModel):
    method: str
    url: str = Field(description="Without user, password or query; credentials redacted")
    status: int | None
    duration_ms: float | None
    error: str | None


class AttemptLog(BaseModel):
    level: Literal["debug", "info", "warning", "error"]
    text: str = Field(description="Secrets of the call redacted")


class Attempt(BaseModel):
    type: Literal["attempt"]
    number: int
    started_at: str | None
    finished_at: str | None
    outcome: Literal["success", "error", "retry", "lost", "released"] | None = Field(
        description="null while it runs"
    )
    error_class: str | None
    error: RunError | None
    retry_delay: float | None
    requests: list[AttemptRequest]
    logs: list[AttemptLog] = Field(
        description="What the app's own code printed (an Activepieces piece's console), "
        f"the first {MAX_PRINTED_CHARACTERS} characters"
    )


class AttemptsResponse(BaseModel):
    data: list[Attempt]


class RunAccepted(BaseModel):
    type: Literal["run"]
    id: str


class DryRun(BaseModel):
    type: Literal["dry_run"]
    action: str
    authentication: str | None
    authentication_label: str | None
    inputs: dict[str, Any] = Field(description="The inputs as the run would get them")
    callback_url: str | None
    would_run: bool


class RunCreated(BaseModel):
    model_config = _examples({"data": {"type": "run", "id": "run_01hx3"}})
    data: RunAccepted | DryRun = Field(description="The run, or what a dry run would do")


class AccessToken(BaseModel):
    model_config = _examples(
        {
            "access_token": "eyJhbGciOiJIUzI1NiIs...",
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "action:run connection:read",
        }
    )
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    issued_token_type: str | None = Field(default=None, description="After a token exchange")


class ExchangedConnectToken(ConnectToken):
    """A connect token from token exchange: RFC 8693's fields and the connect token's."""

    access_token: str
    issued_token_type: Literal["urn:ietf:params:oauth:token-type:connect-token"]
    token_type: Literal["N_A"]


class JsonWebKeySet(BaseModel):
    keys: list[dict[str, Any]] = Field(description="Public JWKs (RFC 7517)")


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Ready(BaseModel):
    status: Literal["ready"]
    version: str


class NotReady(BaseModel):
    status: Literal["unavailable"]
    detail: str
