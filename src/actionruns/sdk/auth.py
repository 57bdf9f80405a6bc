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


class AuthType(StrEnum):
    NONE = "none"
    API_KEY = "api_key"
    BASIC = "basic"
    CUSTOM = "custom"
    OAUTH2 = "oauth2"


@dataclass(frozen=True)
class OAuth2Config:
    """Endpoints of an OAuth2 provider; the flow itself is driven by the connections layer."""

    authorize_url: str
    token_url: str
    scopes: Sequence[str] = ()


@dataclass(frozen=True)
class Auth:
    type: AuthType
    fields: Sequence[InputField] = ()
    apply: ApplyCredentials | None = None
    oauth2: OAuth2Config | None = None

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
        extra_fields: Sequence[InputField] = (),
    ) -> Auth:
        """A single secret key sent in a header, e.g. ``Authorization: Bearer <key>``."""

        def apply(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
            request.headers[header] = template.format(**credentials)

        key_field = InputField(
            "api_key", label, FieldType.PASSWORD, required=True, help_text=help_text
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
    def oauth2_bearer(cls, config: OAuth2Config) -> Auth:
        def apply(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
            request.headers["Authorization"] = f"Bearer {credentials['access_token']}"

        return cls(AuthType.OAUTH2, apply=apply, oauth2=config)


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
