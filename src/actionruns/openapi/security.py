"""A description's security schemes made into the app's auth.

An operation's ``security`` lists alternatives, each a set of schemes used together. Each
alternative the kept operations accept is a candidate; the overlay names one, else the most
usable wins: what a user can paste at once (an API key, a token, a user name and password)
before OAuth2, which needs the operator to register the service at the provider first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from actionruns.openapi.document import Node
from actionruns.openapi.naming import first_sentence, snake, title
from actionruns.sdk.auth import AuthType
from actionruns.sdk.described.manifest import (
    AuthSpec,
    BasicSpec,
    ClientCredentialsSpec,
    FieldSpec,
    OAuth2Spec,
    PlacementSpec,
)
from actionruns.sdk.fields import FieldType


class Unsupported(Exception):
    """A scheme (or a combination) the service cannot send; ``str()`` says why."""


@dataclass
class Candidate:
    """One way to authenticate: schemes used together, with the scopes operations ask."""

    schemes: tuple[str, ...]
    scopes: dict[str, set[str]] = field(default_factory=dict)
    operations: int = 0

    @property
    def name(self) -> str:
        return " + ".join(self.schemes) if self.schemes else "none"


# Lower is better: what works as soon as the user pastes it.
_RANK = {"apiKey": 0, "http": 0, "oauth2": 2, "openIdConnect": 9, "mutualTLS": 9}


def candidates(requirements: Sequence[tuple[dict[str, list[str]], ...]]) -> list[Candidate]:
    """The alternatives of every operation's requirements, counted."""
    found: dict[tuple[str, ...], Candidate] = {}
    for alternatives in requirements:
        for requirement in alternatives or ({},):
            names = tuple(sorted(requirement))
            candidate = found.setdefault(names, Candidate(names))
            candidate.operations += 1
            for name, scopes in requirement.items():
                candidate.scopes.setdefault(name, set()).update(scopes)
    return list(found.values())


def rank(candidate: Candidate, schemes: Mapping[str, Node]) -> tuple[int, int, int]:
    """Lower is more usable: the kind of scheme, then fewer fields to fill (a bearer token
    before a user name and password), then more operations served."""
    nodes = [schemes[name].value for name in candidate.schemes if name in schemes]
    kinds = [str(node.get("type")) for node in nodes]
    if len(nodes) < len(candidate.schemes):
        return (9, 0, 0)
    if not kinds:
        return (5, 0, -candidate.operations)
    worst = max(_RANK.get(kind, 9) for kind in kinds)
    if "oauth2" in kinds and not _has_code_flow(schemes[candidate.schemes[kinds.index("oauth2")]]):
        worst = 3
    basic = sum(1 for node in nodes if node.get("type") == "basic" or node.get("scheme") == "basic")
    return (worst, len(nodes) + basic, -candidate.operations)


def _has_code_flow(node: Node) -> bool:
    value = node.value
    flows = value.get("flows") if isinstance(value.get("flows"), dict) else {}
    return "authorizationCode" in flows or value.get("flow") == "accessCode"


def _password(key: str, label: str, help_text: str) -> FieldSpec:
    return FieldSpec(
        key=key,
        label=label,
        type=FieldType.PASSWORD,
        required=True,
        help_text=help_text,
        secret=True,
    )


@dataclass
class _Built:
    fields: list[FieldSpec] = field(default_factory=list)
    placements: list[PlacementSpec] = field(default_factory=list)
    basic: BasicSpec | None = None
    oauth2: OAuth2Spec | None = None
    client_credentials: ClientCredentialsSpec | None = None
    kinds: list[str] = field(default_factory=list)


def _api_key(name: str, value: dict[str, Any], built: _Built, single: bool) -> None:
    location = value.get("in")
    header = value.get("name")
    if location not in ("header", "query", "cookie") or not isinstance(header, str) or not header:
        raise Unsupported(f"{name}: an apiKey scheme needs in (header, query or cookie) and a name")
    key = "api_key" if single else snake(name)
    label = "API key" if single else title(name)
    described = first_sentence(str(value.get("description") or ""), 300)
    help_text = (
        described
        or f"Sent as the {header} {'header' if location == 'header' else location + ' parameter'}."
    )
    built.fields.append(_password(key, label, help_text))
    built.placements.append(PlacementSpec(location=location, name=header, template="{" + key + "}"))
    built.kinds.append("api_key")


def _http(name: str, value: dict[str, Any], built: _Built, single: bool) -> None:
    scheme = str(value.get("scheme") or "").lower()
    described = first_sentence(str(value.get("description") or ""), 300)
    if scheme == "basic":
        built.fields += [
            FieldSpec(
                key="username",
                label="Username",
                required=True,
                help_text=described or "The account's user name.",
            ),
            _password("password", "Password", "The password (or API token) that goes with it."),
        ]
        built.basic = BasicSpec()
        built.kinds.append("basic")
    elif scheme == "bearer":
        key = "api_key" if single else snake(name)
        built.fields.append(
            _password(
                key, "API token" if single else title(name), described or "Sent as a bearer token."
            )
        )
        built.placements.append(
            PlacementSpec(location="header", name="Authorization", template="Bearer {" + key + "}")
        )
        built.kinds.append("api_key")
    else:
        raise Unsupported(f"{name}: HTTP {scheme or 'without a scheme'} is not supported")


def _scopes(scopes: set[str], declared: Any, chosen: Sequence[str] | None) -> tuple[str, ...]:
    if chosen is not None:
        return tuple(chosen)
    if scopes:
        return tuple(sorted(scopes))
    return ()


def _oauth2(
    name: str,
    value: dict[str, Any],
    built: _Built,
    scopes: set[str],
    base: str,
    chosen: Sequence[str] | None,
) -> None:
    flows = value.get("flows") if isinstance(value.get("flows"), dict) else None
    if flows is None and value.get("flow"):  # Swagger 2.0
        flow_name = {"accessCode": "authorizationCode", "application": "clientCredentials"}.get(
            value["flow"], value["flow"]
        )
        flows = {flow_name: value}
    flows = flows or {}
    code = flows.get("authorizationCode")
    if isinstance(code, dict) and code.get("authorizationUrl") and code.get("tokenUrl"):
        asked = _scopes(scopes, code.get("scopes"), chosen)
        listed = code.get("scopes")
        declared: dict[str, Any] = listed if isinstance(listed, dict) else {}
        built.oauth2 = OAuth2Spec(
            authorize_url=urljoin(base + "/", str(code["authorizationUrl"])),
            token_url=urljoin(base + "/", str(code["tokenUrl"])),
            scopes=asked,
            # The description's words for each scope, for the Connect page's list of access.
            scope_descriptions={
                scope: words.strip()
                for scope in asked
                if isinstance(words := declared.get(scope), str) and words.strip()
            },
        )
        built.kinds.append("oauth2")
        return
    credentials = flows.get("clientCredentials")
    if isinstance(credentials, dict) and credentials.get("tokenUrl"):
        built.fields += [
            FieldSpec(
                key="client_id",
                label="Client ID",
                required=True,
                help_text="The OAuth2 client's id.",
            ),
            _password("client_secret", "Client secret", "The OAuth2 client's secret."),
        ]
        built.client_credentials = ClientCredentialsSpec(
            token_url=urljoin(base + "/", str(credentials["tokenUrl"])),
            scopes=_scopes(scopes, credentials.get("scopes"), chosen),
        )
        built.kinds.append("client_credentials")
        return
    raise Unsupported(
        f"{name}: only OAuth2's authorization code and client credentials flows are supported"
    )


def auth_spec(
    candidate: Candidate,
    schemes: Mapping[str, Node],
    base_url: str,
    scopes: Sequence[str] | None = None,
) -> AuthSpec:
    """The auth ``candidate`` makes; raises ``Unsupported`` when it cannot be sent."""
    built = _Built()
    single = len(candidate.schemes) == 1
    for name in candidate.schemes:
        if name not in schemes:
            raise Unsupported(f"{name}: no such security scheme in the description")
        value = schemes[name].value
        kind = value.get("type")
        if kind == "apiKey":
            _api_key(name, value, built, single)
        elif kind == "http" or kind == "basic":  # Swagger 2.0 says type: basic
            _http(name, value if kind == "http" else {**value, "scheme": "basic"}, built, single)
        elif kind == "oauth2":
            _oauth2(name, value, built, candidate.scopes.get(name, set()), base_url, scopes)
        else:
            raise Unsupported(f"{name}: {kind} is not supported")
    if built.oauth2 is not None and len(built.kinds) > 1:
        raise Unsupported(f"{candidate.name}: OAuth2 together with other schemes is not supported")
    keys = [spec.key for spec in built.fields]
    if len(keys) != len(set(keys)):
        raise Unsupported(f"{candidate.name}: its schemes ask for the same field twice")
    if built.oauth2 is not None:
        kind_of = AuthType.OAUTH2
    elif not built.kinds:
        kind_of = AuthType.NONE
    elif built.kinds == ["api_key"]:
        kind_of = AuthType.API_KEY
    elif built.kinds == ["basic"]:
        kind_of = AuthType.BASIC
    else:
        kind_of = AuthType.CUSTOM
    return AuthSpec(
        type=kind_of,
        fields=tuple(built.fields),
        placements=tuple(built.placements),
        basic=built.basic,
        oauth2=built.oauth2,
        client_credentials=built.client_credentials,
        scheme=candidate.name,
    )


def credential_parameters(spec: AuthSpec) -> set[tuple[str, str]]:
    """The (location, lower-case name) of the parameters credentials fill, which are not
    fields of the actions."""
    return {(placement.location, placement.name.lower()) for placement in spec.placements}
