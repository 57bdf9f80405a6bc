"""How an app authenticates: which fields a user gives and how they go on outgoing requests."""

from __future__ import annotations

import base64
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx2

from actionruns.sdk.fields import FieldType, InputField

ApplyCredentials = Callable[[httpx2.Request, Mapping[str, Any]], None]
HttpAuthFactory = Callable[[Mapping[str, Any]], httpx2.Auth]
"""An httpx auth flow made from the credentials: for schemes that make requests of their own
(a token endpoint), where putting fields on a request is not enough."""


class AuthType(StrEnum):
    NONE = "none"
    API_KEY = "api_key"
    BASIC = "basic"
    CUSTOM = "custom"
    OAUTH2 = "oauth2"


TokenReader = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""Turns a provider's token response into the standard fields (``access_token``,
``refresh_token``, ``expires_in``, ``token_type``, ``scope``) where it nests or names them
differently; the rest of the response is kept beside them."""


@dataclass(frozen=True)
class OAuth2Config:
    """How a provider's authorization code flow goes; the connections layer drives it.

    The operator registers the service at the provider (client id and secret, and the
    redirect URI ``<public URL>/connect/oauth/callback``).
    """

    authorize_url: str
    token_url: str
    scopes: Sequence[str] = ()
    # The access each scope grants, in words, for the Connect page to list (scope: words).
    scope_descriptions: Mapping[str, str] = field(default_factory=dict)
    scope_separator: str = " "  # Slack wants commas
    # How the client authenticates at the token endpoint: in the form or with HTTP Basic.
    token_auth_method: str = "client_secret_post"  # noqa: S105 (a method name)
    pkce: bool = True
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    token_headers: Mapping[str, str] = field(default_factory=dict)  # GitHub: Accept: JSON
    read_token: TokenReader | None = None


@dataclass(frozen=True)
class Auth:
    type: AuthType
    fields: Sequence[InputField] = ()
    apply: ApplyCredentials | None = None
    oauth2: OAuth2Config | None = None
    flow: HttpAuthFactory | None = None  # used instead of ``apply`` when given

    @property
    def secret_keys(self) -> frozenset[str]:
        keys = {spec.key for spec in self.fields if spec.is_secret}
        if self.type is AuthType.OAUTH2:
            keys |= {"access_token", "refresh_token"}
        return frozenset(keys)

    @classmethod
    def none(cls) -> Auth:
        return cls(AuthType.NONE)

    @classmethod
    def api_key(
        cls,
        *,
        header: str = "Authorization",
        template: str = "Bearer {api_key}",
        label: str = "API key",
        help_text: str = "",
        help_url: str = "",
        help_steps: Sequence[str] = (),
        extra_fields: Sequence[InputField] = (),
    ) -> Auth:
        """A single secret key sent in a header, e.g. ``Authorization: Bearer <key>``;
        ``help_url`` and ``help_steps`` tell an end user where to find it."""

        def apply(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
            request.headers[header] = template.format(**credentials)

        key_field = InputField(
            "api_key",
            label,
            FieldType.PASSWORD,
            required=True,
            help_text=help_text,
            help_url=help_url,
            help_steps=tuple(help_steps),
        )
        return cls(AuthType.API_KEY, fields=(key_field, *extra_fields), apply=apply)

    @classmethod
    def basic(cls, *, help_text: str = "") -> Auth:
        def apply(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
            pair = f"{credentials['username']}:{credentials['password']}".encode()
            request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()

        return cls(
            AuthType.BASIC,
            fields=(
                InputField("username", "Username", required=True, help_text=help_text),
                InputField("password", "Password", FieldType.PASSWORD, required=True),
            ),
            apply=apply,
        )

    @classmethod
    def custom(cls, fields: Sequence[InputField], apply: ApplyCredentials | None = None) -> Auth:
        return cls(AuthType.CUSTOM, fields=tuple(fields), apply=apply)

    @classmethod
    def oauth2_bearer(
        cls,
        config: OAuth2Config,
        *,
        help_text: str = "",
        extra_fields: Sequence[InputField] = (),
    ) -> Auth:
        """OAuth2 through the Connect page; a partner that already holds a token for the user
        may also give it directly as ``access_token`` (and ``refresh_token``)."""

        def apply(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
            request.headers["Authorization"] = f"Bearer {credentials['access_token']}"

        token_fields = (
            InputField(
                "access_token",
                "Access token",
                FieldType.PASSWORD,
                required=True,
                help_text=help_text or "An OAuth2 access token for the account.",
            ),
            InputField(
                "refresh_token",
                "Refresh token",
                FieldType.PASSWORD,
                help_text="The refresh token that came with it, if any.",
            ),
            *extra_fields,
        )
        return cls(AuthType.OAUTH2, fields=token_fields, apply=apply, oauth2=config)


def http_basic(
    username: Callable[[Mapping[str, Any]], str], password: Callable[[Mapping[str, Any]], str]
) -> ApplyCredentials:
    """HTTP Basic from an app's own fields, e.g. Twilio's account SID and auth token, or
    Zendesk's ``{email}/token`` and API token."""

    def apply(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
        pair = f"{username(credentials)}:{password(credentials)}".encode()
        request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()

    return apply


@dataclass
class CredentialsAuth(httpx2.Auth):
    """An httpx auth flow that puts an authentication's credentials on every request."""

    apply: ApplyCredentials
    credentials: Mapping[str, Any] = field(repr=False)

    def auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        self.apply(request, self.credentials)
        yield request
