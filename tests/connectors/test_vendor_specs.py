"""Every request the recorded connector cases make, checked against the vendor's own API
description: method, path, query, headers (the auth scheme where the description declares
one), content type and body.

The descriptions are the vendors' own files, trimmed at test time to the operations the
connector calls (``tests/vendors/descriptions.py`` says where each is published and where it
is looked for). openapi-core checks each request; on top of it, a query or form argument the
operation does not declare is a violation too (openapi-core ignores them), as the Slack
emulator does. A violation is a connector or fixture bug, unless ``ALLOWED`` says why it is
not.

GraphQL APIs (``SCHEMAS``) are checked against the vendor's own schema with graphql-core
instead: the request is a POST of JSON ``{"query", "variables"}`` to the documented endpoint,
with the credential where and as the vendor documents it for the app's auth type; its document
parses, validates (deprecated fields and arguments are violations too), holds one operation to
run, calls only the root fields the entry lists; its variables are all declared and coerce to
their declared types.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx2
import pytest
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.validation import NoDeprecatedCustomRule
from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas import oas30_write_schema_casters_factory
from openapi_core.deserializing.styles import StyleDeserializersFactory, style_deserializers

from actionruns.sdk.fixtures import AppFixtures, load_fixtures, replay, replay_connection_test
from actionruns.sdk.registry import Registry
from tests.openapi_messages import HttpxOpenAPIRequest
from tests.vendors.descriptions import (
    DESCRIPTIONS,
    SCHEMAS,
    graphql_schema,
    trimmed_description,
    where_to_put,
)

# Asana's description marks some query arguments allowEmptyValue (deprecated in OpenAPI 3).
pytestmark = pytest.mark.filterwarnings(
    "ignore:Use of allowEmptyValue property is deprecated:DeprecationWarning"
)

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Allowance:
    """One violation that is not a bug: the description is wrong, out of date or stricter
    than the API, or the case sends a bad value on purpose to record the vendor's answer."""

    # The method and the description's path template: "POST /v3/mail/send"; for GraphQL, a
    # root field the request calls: "mutation issueCreate".
    operation: str
    says: str  # a piece of the violation's text
    why: str
    case: str = ""  # the recorded case's name (all cases if empty)


ALLOWED: dict[str, list[Allowance]] = {
    "meilisearch": [
        Allowance(
            "GET /indexes/{indexUid}/search",
            "Missing required query parameter",
            "the description marks nearly every parameter of the GET search required (vector, "
            "attributesToRetrieve, facets, locales…), which its own POST search of the same "
            "query leaves optional (SearchQuery), and a keyword search has no vector; "
            "Meilisearch's reference says every search parameter is optional "
            "(https://www.meilisearch.com/docs/reference/api/search#search-parameters)",
        ),
    ],
    "onesignal": [
        Allowance(
            "POST /apps/{app_id}/segments",
            "is valid under each of",
            "a segment's filters are each oneOf Filter or Operator, but Operator requires no "
            "property and allows any other, so every filter is an Operator too and oneOf "
            "matches no filter at all (OneSignal's own API reference sends such filters)",
        ),
    ],
    "sendgrid": [
        Allowance(
            "POST /mail/send",
            "personalizations/0/to/0/email: 'not-an-address' is not a 'email'",
            "the case sends a malformed address on purpose, to record SendGrid's error list",
            case="send_email: an invalid address: every listed error with its field",
        ),
    ],
    "stripe": [
        Allowance(
            "POST /v1/invoiceitems",
            "undeclared form argument 'pricing[price]'",
            "the description is of API version 2023-08-16 (the newest whose file the mirror "
            "holds); the connector pins Stripe-Version 2025-03-31.basil, which replaced an "
            "invoice item's `price` with `pricing[price]` "
            "(https://docs.stripe.com/changelog/basil/2025-03-31/invoice-item-price-and-pricing)",
        ),
    ],
}

# Where a description's server is not the one the vendor documents; a ``{name}`` in the
# replacement is a server variable (one host label).
SERVERS = {
    # Jira's description names an example site; each customer has their own
    # (https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/#uri-structure).
    "jira": {"https://your-domain.atlassian.net": "https://{site}.atlassian.net"},
    # SendGrid's OpenAPI 3 description says http://; the API is https only, as its reference
    # (https://www.twilio.com/docs/sendgrid/api-reference) and its Swagger 2 sibling say.
    "sendgrid": {"http://api.sendgrid.com/v3": "https://api.sendgrid.com/v3"},
}

APPS = list(Registry.from_entry_points())
RECORDED = [
    fixtures
    for app in APPS
    if app.key in DESCRIPTIONS and (fixtures := load_fixtures(app)) is not None
]
GRAPHQL_RECORDED = [
    fixtures for app in APPS if app.key in SCHEMAS and (fixtures := load_fixtures(app)) is not None
]


def _deep_object(explode: bool, name: str, schema_type: str, location: Mapping[str, Any]) -> Any:
    """``name[a][b]=v``, ``name[]=v``, ``name[0]=v`` as nested objects and lists.

    openapi-core reads deepObject only for a flat ``type: object``; Stripe's description
    declares it for arrays (``expand[]``) and ``anyOf`` unions too, which is how the Stripe
    API reads every form body and query (https://docs.stripe.com/api/metadata,
    https://docs.stripe.com/api/expanding_objects).
    """
    getlist = getattr(location, "getlist", None)
    pairs: list[tuple[list[str], Any]] = []
    for key in location:
        if key.startswith(f"{name}["):
            parts = key[len(name) + 1 : -1].split("][")
            values = getlist(key) if getlist else [location[key]]
            pairs.extend((parts, value) for value in values)
    if not pairs:
        raise KeyError(name)
    root: dict[str, Any] = {}
    for parts, value in pairs:
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if parts[-1] == "":
            node.setdefault("", []).append(value)
        else:
            node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if set(node) == {""}:
        return node[""]
    if node and all(key.isdigit() for key in node):
        return [_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _lists(value) for key, value in node.items()}


class _Parts(dict[str, list[str]]):
    """A multipart body's parts by name: one value where the schema wants one, all of them
    where it wants a list; a part that is absent is absent (openapi-core's own reading gives
    an array property that was not sent as ``[]``, which ``minItems`` then refuses)."""

    def __getitem__(self, name: str) -> str:  # type: ignore[override]
        return super().__getitem__(name)[0]

    def getlist(self, name: str) -> list[str]:
        return super().__getitem__(name)


def _multipart(value: bytes, **parameters: str) -> _Parts:
    """Each part as text, a file's too: a 3.1 description's ``type: string`` refuses the bytes
    openapi-core would give a file (3.0's ``format: binary`` takes them), and what the check
    needs of a file is that it is sent where the description says."""
    message = BytesParser(policy=HTTP).parsebytes(
        f'Content-Type: multipart/form-data; boundary="{parameters.get("boundary", "")}"'
        "\r\n\r\n".encode()
        + value
    )
    parts = _Parts()
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        text = (payload if isinstance(payload, bytes) else b"").decode(errors="surrogateescape")
        parts.setdefault(name, []).append(_File(text) if part.get_filename() else text)
    return parts


class _File(str):
    """A multipart part sent as a file (with a file name): what ``format: binary`` means, and
    not a URI, where a description lets a field be either (Together's audio ``file``)."""


def _is_uri(value: object) -> bool:
    return not isinstance(value, _File) and bool(urlsplit(str(value)).scheme)


# text/json is JSON (Datadog's intake endpoints declare it); openapi-core reads it as text.
MEDIA_TYPES: dict[str, Callable[[bytes], Any]] = {
    "multipart/form-data": _multipart,
    "text/json": json.loads,
}
FORMATS: dict[str, Callable[[Any], bool]] = {
    "binary": lambda value: isinstance(value, bytes | _File),
    "uri": _is_uri,
}
CONFIG_30 = Config(
    style_deserializers_factory=StyleDeserializersFactory(
        oas30_write_schema_casters_factory,
        style_deserializers={**style_deserializers, "deepObject": _deep_object},
    ),
    extra_media_type_deserializers=MEDIA_TYPES,
    extra_format_validators=FORMATS,
)
CONFIG_31 = Config(extra_media_type_deserializers=MEDIA_TYPES, extra_format_validators=FORMATS)


@cache
def document(key: str) -> dict[str, Any]:
    """The trimmed description, with the corrections openapi-core needs to read it right."""
    published = trimmed_description(key)
    if published is None:
        pytest.skip(where_to_put(key))
    spec = _as_meant(copy.deepcopy(published))
    for server in spec.get("servers", []):
        server["url"] = SERVERS.get(key, {}).get(server["url"], server["url"])
        for name in re.findall(r"\{([^}]+)\}", server["url"]):
            server.setdefault("variables", {}).setdefault(name, {"default": name})
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for name, scheme in schemes.items():
        if scheme["type"] == "oauth2":
            # openapi-core accepts any request for an oauth2 scheme ("Unsupported scheme
            # type"); its access tokens travel as "Authorization: Bearer" (RFC 6750).
            schemes[name] = {"type": "http", "scheme": "bearer"}
    _drop_defaults_the_schema_refuses(spec)
    _ecma_patterns(spec)
    if spec["openapi"].startswith("3.1"):
        _numeric_exclusive_bounds(spec)
    _discriminator_mappings(spec, spec)
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        if isinstance(schema, dict) and schema.pop("$recursiveAnchor", None):
            # JSON Schema 2019-09's recursion, which OpenAPI 3.1's dialect (2020-12) has not:
            # a "$recursiveRef": "#" below it is the component itself (OpenAI's filters).
            _recursive_refs(schema, f"#/components/schemas/{name}")
    return spec


def _as_meant(spec: dict[str, Any]) -> dict[str, Any]:
    """The description with two common slips read as their writers meant them."""
    if spec["openapi"].startswith("3.0"):
        spec = dict(_null_as_nullable(spec))
    return dict(_closed_all_of_merged(spec, spec))


NULL = {"type": "null"}


def _null_as_nullable(node: Any) -> Any:
    """OpenAPI 3.0 says a schema may be null with ``nullable: true``; it has no ``null`` type,
    and openapi-core refuses to load a 3.0 description that uses one. Descriptions generated
    for 3.0 write ``oneOf: [X, {type: "null"}]`` all the same (Algolia's): that is ``X``,
    nullable."""
    if isinstance(node, list):
        return [_null_as_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _null_as_nullable(value) for key, value in node.items()}
    for keyword in ("oneOf", "anyOf"):
        alternatives = node.get(keyword)
        if isinstance(alternatives, list) and NULL in alternatives:
            node[keyword] = [item for item in alternatives if item != NULL]
            node["nullable"] = True
    return node


def _closed(spec: Mapping[str, Any], schema: Any) -> dict[str, Any] | None:
    """``schema`` as one object schema that allows no other property, or None if it is not
    one (an ``allOf`` of such schemas counts, merged)."""
    merged = _closed_all_of_merged(spec, _resolve(spec, schema))
    if isinstance(merged, dict) and merged.get("additionalProperties") is False:
        return dict(merged)
    return None


def _closed_all_of_merged(spec: Mapping[str, Any], node: Any) -> Any:
    """An ``allOf`` of object schemas that each allow no other property can only match an
    object with properties of one of them: JSON Schema checks each alone. Descriptions that
    generators read as "all these properties, none other" write it all the same (Algolia's
    search parameters: the query in one schema, filters and paging in others); it is read
    here as they mean it, one schema with every property and none other."""
    if isinstance(node, list):
        return [_closed_all_of_merged(spec, item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _closed_all_of_merged(spec, value) for key, value in node.items()}
    members = node.get("allOf")
    if isinstance(members, list) and len(members) > 1:
        closed = [_closed(spec, member) for member in members]
        if all(member is not None for member in closed):
            merged = {k: v for k, v in node.items() if k != "allOf"}
            merged.update(type="object", additionalProperties=False, properties={})
            required: list[str] = []
            for member in closed:
                assert member is not None
                merged["properties"].update(member.get("properties", {}))
                required += member.get("required", [])
            if required:
                merged["required"] = list(dict.fromkeys(required))
            return merged
    return node


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "null": lambda value: value is None,
    "boolean": lambda value: isinstance(value, bool),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "string": lambda value: isinstance(value, str),
    "array": lambda value: isinstance(value, list),
    "object": lambda value: isinstance(value, dict),
}


def _refuses(node: Mapping[str, Any], value: Any) -> bool:
    """Whether a schema's own ``enum`` or ``type`` (``nullable`` aside) refuses ``value``."""
    enum, kind = node.get("enum"), node.get("type")
    if isinstance(enum, list) and value not in enum:
        return True
    kinds = kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else []
    if not kinds or (value is None and node.get("nullable")):
        return False
    return not any(_JSON_TYPES.get(k, lambda _: True)(value) for k in kinds)


def _drop_defaults_the_schema_refuses(node: Any) -> None:
    """A schema's ``default`` that the schema itself does not allow makes openapi-core refuse
    the whole description; the default is documentation (what the API assumes when the value
    is left out), never sent, so it goes. DeepL's ``outline_detection`` as a form string
    (default "1", enum ["0"]: "0" is the only value worth sending); OpenAI's objects that
    default to null without allowing it (``stream_options``: no options unless streaming);
    Together's ``"auto"`` default on a boolean that its oneOf allows to be "auto"."""
    if isinstance(node, dict):
        if "default" in node and _refuses(node, node["default"]):
            del node["default"]
        for value in node.values():
            _drop_defaults_the_schema_refuses(value)
    elif isinstance(node, list):
        for value in node:
            _drop_defaults_the_schema_refuses(value)


def _ecma_patterns(node: Any) -> None:
    """JSON Schema's patterns are ECMA-262 regular expressions, which have no inline flags;
    a pattern starting ``(?i)`` (PayPal's ``fields``: ``(?i)^(all|none)$``) makes
    openapi-core refuse the whole description. Such a pattern is read as its writer meant
    it, each letter either case (one with classes or escapes is left out instead)."""
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and pattern.startswith("(?i)"):
            rest = pattern.removeprefix("(?i)")
            if "[" in rest or "\\" in rest:
                del node["pattern"]
            else:
                node["pattern"] = re.sub(
                    r"[A-Za-z]", lambda m: f"[{m[0].lower()}{m[0].upper()}]", rest
                )
        for value in node.values():
            _ecma_patterns(value)
    elif isinstance(node, list):
        for value in node:
            _ecma_patterns(value)


def _tag(spec: Mapping[str, Any], member: Any, name: str) -> Any:
    """The one value a oneOf member's ``name`` property may have (its enum or const)."""
    schema = _resolve(spec, member)
    parts = [schema, *(_resolve(spec, part) for part in schema.get("allOf", []))]
    for part in parts:
        found = _resolve(spec, part.get("properties", {}).get(name, {}))
        if "const" in found:
            return found["const"]
        if len(found.get("enum", [])) == 1:
            return found["enum"][0]
    return None


def _discriminator_mappings(spec: Mapping[str, Any], node: Any) -> None:
    """A discriminator without a mapping maps each value to the schema of that *name*; where
    the values are not schema names (OpenAI's messages by ``role``: "user", "developer"),
    openapi-core looks for schemas that do not exist. The mapping the description means is
    each member's own value of the property; where a member has none, the oneOf alone
    decides."""
    if isinstance(node, dict):
        discriminator = node.get("discriminator")
        members = node.get("oneOf") or node.get("anyOf") or []
        if isinstance(discriminator, dict) and "mapping" not in discriminator and members:
            names = spec.get("components", {}).get("schemas", {})
            refs = [m.get("$ref", "") for m in members if isinstance(m, dict)]
            implicit = all(ref.rsplit("/", 1)[-1] in names for ref in refs)
            tags = [_tag(spec, member, discriminator["propertyName"]) for member in members]
            if all(isinstance(tag, str) for tag in tags) and all(refs):
                discriminator["mapping"] = dict(zip(tags, refs, strict=True))
            elif not implicit or not all(refs):
                del node["discriminator"]
        for value in node.values():
            _discriminator_mappings(spec, value)
    elif isinstance(node, list):
        for value in node:
            _discriminator_mappings(spec, value)


def _numeric_exclusive_bounds(node: Any) -> None:
    """OpenAPI 3.0's ``exclusiveMinimum: true`` beside ``minimum`` is, in 3.1 (JSON Schema
    2020-12), ``exclusiveMinimum: <the minimum>``; a 3.1 description written the old way
    (OpenAI's learning rate multiplier) is refused whole."""
    if isinstance(node, dict):
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            flag = node.get(exclusive)
            if isinstance(flag, bool):
                del node[exclusive]
                if flag and bound in node:
                    node[exclusive] = node.pop(bound)
        for value in node.values():
            _numeric_exclusive_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _numeric_exclusive_bounds(value)


def _recursive_refs(node: Any, target: str) -> None:
    if isinstance(node, dict):
        if node.get("$recursiveRef") == "#":
            del node["$recursiveRef"]
            node["$ref"] = target
        for value in node.values():
            _recursive_refs(value, target)
    elif isinstance(node, list):
        for value in node:
            _recursive_refs(value, target)


@cache
def description(key: str) -> OpenAPI:
    spec = document(key)
    return OpenAPI.from_dict(
        spec, config=CONFIG_30 if spec["openapi"].startswith("3.0") else CONFIG_31
    )


def _errors(exc: BaseException) -> Iterator[str]:
    yield str(exc)
    for error in getattr(exc, "schema_errors", ()):
        where = "/".join(str(part) for part in error.absolute_path)
        yield f"  {where or '(body)'}: {error.message}"
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        yield from _errors(cause)


def _resolve(spec: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        for part in node["$ref"][2:].split("/"):
            spec = spec[part.replace("~1", "/").replace("~0", "~")]
        node = spec
    return node


def _operation(key: str, request: httpx2.Request) -> tuple[str, dict[str, Any]] | None:
    """The description's path template the request is for, and its operation: a concrete
    path before a templated one (``/Attempts/Summary`` before ``/Attempts/{Sid}``), as
    OpenAPI matches them."""
    spec = document(key)
    templates = sorted(spec["paths"].items(), key=lambda entry: entry[0].count("{"))
    for server in spec.get("servers", []):
        base = server["url"].rstrip("/")
        # A relative server ("/", a self-hosted product's) is on whichever host is asked.
        absolute = re.match(r"https?://", base) is not None
        url = str(request.url.copy_with(query=None)) if absolute else request.url.path
        for template, item in templates:
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(base + template))
            if re.fullmatch(pattern, url) and request.method.lower() in item:
                operation = dict(item[request.method.lower()])
                operation["parameters"] = [
                    *item.get("parameters", []),
                    *operation.get("parameters", []),
                ]
                return template, operation
    return None


def _property_names(spec: Mapping[str, Any], schema: Any) -> set[str]:
    """The properties an object schema (with its allOf parts) declares."""
    schema = _resolve(spec, schema)
    if not isinstance(schema, Mapping):
        return set()
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= _property_names(spec, part)
    return names


def _undeclared(key: str, request: httpx2.Request, operation: Mapping[str, Any]) -> list[str]:
    """Query and form arguments the operation does not declare (``name[…]`` counts as
    ``name``), which openapi-core lets through."""
    spec = document(key)
    parameters = [_resolve(spec, parameter) for parameter in operation["parameters"]]
    query = [p for p in parameters if p["in"] == "query"]
    declared = {p["name"] for p in query}
    for parameter in query:  # an object sent exploded (form style) is its properties
        if parameter.get("style", "form") == "form" and parameter.get("explode", True):
            declared |= _property_names(spec, parameter.get("schema", {}))
    found = [
        f"undeclared query argument {name!r}"
        for name in dict.fromkeys(name for name, _ in request.url.params.multi_items())
        if name not in declared and name.split("[")[0] not in declared  # page[size], a[b]
    ]
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    body = _resolve(spec, operation.get("requestBody", {}))
    schema = _resolve(spec, body.get("content", {}).get(content_type, {}).get("schema", {}))
    if content_type == FORM and "properties" in schema:
        sent = dict.fromkeys(name for name, _ in parse_qsl(request.content.decode(), True))
        found += [
            f"undeclared form argument {name!r}"
            for name in sent
            if name.split("[")[0] not in schema["properties"]
        ]
    return found


@cache
def _token_paths(key: str) -> frozenset[str]:
    """Where the description's OAuth2 client credentials flows ask for tokens: an endpoint
    the description names (``tokenUrl``) but, being OAuth2's, does not describe."""
    published = trimmed_description(key) or {}
    schemes = published.get("components", {}).get("securitySchemes", {})
    return frozenset(
        urlsplit(flow["tokenUrl"]).path
        for scheme in schemes.values()
        if scheme.get("type") == "oauth2"
        for name, flow in scheme.get("flows", {}).items()
        if name == "clientCredentials" and "tokenUrl" in flow
    )


def _token_request_problems(request: httpx2.Request) -> list[str]:
    """How a token request departs from RFC 6749 §4.4.2 (client authenticated per §2.3.1)."""
    form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
    problems = []
    if request.method != "POST":
        problems.append(f"a token request is a POST, not {request.method}")
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
        problems.append("a token request is a form")
    if form.get("grant_type") != "client_credentials":
        problems.append(f"grant_type {form.get('grant_type')!r}, not client_credentials")
    basic = request.headers.get("authorization", "").startswith("Basic ")
    if not basic and not {"client_id", "client_secret"} <= set(form):
        problems.append("the client authenticates with HTTP Basic or client_id/client_secret")
    return problems


@dataclass
class Checker:
    app: str
    case: str = ""
    checked: int = 0
    violations: list[str] = field(default_factory=list)
    used: set[Allowance] = field(default_factory=set)

    def observe(self, request: httpx2.Request) -> None:
        self.checked += 1
        if request.url.path in _token_paths(self.app):
            self.violations.extend(
                f"{self.case}: POST {request.url.path}: {problem}"
                for problem in _token_request_problems(request)
            )
            return
        found: list[str] = []
        try:
            description(self.app).validate_request(HttpxOpenAPIRequest(request))
        except Exception as exc:
            found.append("\n    ".join(dict.fromkeys(_errors(exc))))
        matched = _operation(self.app, request)
        if matched is not None:
            found += _undeclared(self.app, request, matched[1])
        template = matched[0] if matched else request.url.path
        allowed = [
            allowance
            for allowance in ALLOWED.get(self.app, [])
            if allowance.operation == f"{request.method} {template}"
            and allowance.case in ("", self.case)
        ]
        for violation in found:
            excusing = {allowance for allowance in allowed if allowance.says in violation}
            self.used |= excusing
            if not excusing:
                where = f"{request.method} {request.url.raw_path.decode()}"
                self.violations.append(f"{self.case}: {where}: {violation}")


def _key(fixtures: AppFixtures) -> str:
    return fixtures.app.key


@pytest.mark.parametrize("fixtures", RECORDED, ids=_key)
async def test_every_recorded_request_follows_the_vendor_description(
    fixtures: AppFixtures,
) -> None:
    await replay_checked(fixtures, Checker(fixtures.app.key))


async def replay_checked(fixtures: AppFixtures, checker: Checker | GraphQLChecker) -> None:
    """Replay the app's connection test and every case with ``checker`` watching each
    request: no violation, and no allowance left that nothing needed."""
    checker.case = "connection test"
    assert await replay_connection_test(fixtures, observe=checker.observe) == []
    for case in fixtures.cases:
        checker.case = case.name
        assert await replay(fixtures, case, observe=checker.observe) == []
    assert checker.checked, "no request was checked"
    assert checker.violations == [], "\n".join(checker.violations)
    unused = set(ALLOWED.get(fixtures.app.key, [])) - checker.used
    assert not unused, f"allowances nothing needs any more (remove them): {unused}"


def test_a_token_request_is_checked_against_oauth2() -> None:
    """The client credentials grant's token request is OAuth2's (RFC 6749 §4.4), which the
    description names (tokenUrl) but does not describe: it is checked against the RFC."""
    url = "https://api-m.sandbox.paypal.com/v1/oauth2/token"
    basic = {"Authorization": "Basic Y2xpZW50OnNlY3JldA=="}
    good = httpx2.Request("POST", url, data={"grant_type": "client_credentials"}, headers=basic)
    assert _token_request_problems(good) == []
    posted = httpx2.Request(
        "POST",
        url,
        data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"},
    )
    assert _token_request_problems(posted) == []
    wrong = httpx2.Request("POST", url, json={"grant_type": "password"})
    assert _token_request_problems(wrong) == [
        "a token request is a form",
        "grant_type None, not client_credentials",
        "the client authenticates with HTTP Basic or client_id/client_secret",
    ]


def test_every_description_has_its_app() -> None:
    """A description whose app went away (a renamed key?) would silently check nothing."""
    assert {fixtures.app.key for fixtures in RECORDED} == set(DESCRIPTIONS)
    assert {fixtures.app.key for fixtures in GRAPHQL_RECORDED} == set(SCHEMAS)


# What a GraphQL request's JSON body may hold
# (https://graphql.github.io/graphql-over-http/draft/#sec-Request-Parameters).
GRAPHQL_BODY = {"query", "operationName", "variables", "extensions"}
GRAPHQL_RULES = (*specified_rules, NoDeprecatedCustomRule)


@cache
def schema(key: str) -> GraphQLSchema:
    published = graphql_schema(key)
    if published is None:
        pytest.skip(where_to_put(key))
    return published


def _template(template: str) -> str:
    """A URL template as a pattern: ``{name}`` is one host label or path segment."""
    return re.sub(r"\\\{[^}]+\\\}", "[^/.]+", re.escape(template))


def _root_fields(
    fragments: Mapping[str, FragmentDefinitionNode],
    selections: SelectionSetNode,
    seen: frozenset[str] = frozenset(),
) -> Iterator[str]:
    """The root fields an operation selects, through its fragments."""
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(fragments, selection.selection_set, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            name = selection.name.value
            if name not in seen:
                yield from _root_fields(fragments, fragments[name].selection_set, seen | {name})


def _messages(errors: list[GraphQLError]) -> list[str]:
    return [
        error.message
        + "".join(f" (line {where.line}, column {where.column})" for where in error.locations or ())
        for error in errors
    ]


@dataclass
class GraphQLChecker:
    fixtures: AppFixtures
    case: str = ""
    checked: int = 0
    called: set[str] = field(default_factory=set)  # "mutation issueCreate"…
    violations: list[str] = field(default_factory=list)
    used: set[Allowance] = field(default_factory=set)

    @property
    def app(self) -> str:
        return self.fixtures.app.key

    def observe(self, request: httpx2.Request) -> None:
        self.checked += 1
        operations: list[str] = []
        found = self._transport(request) + self._graphql(request, operations)
        allowed = [
            allowance
            for allowance in ALLOWED.get(self.app, [])
            if allowance.operation in operations and allowance.case in ("", self.case)
        ]
        for violation in found:
            excusing = {allowance for allowance in allowed if allowance.says in violation}
            self.used |= excusing
            if not excusing:
                called = ", ".join(operations) or f"{request.method} {request.url}"
                self.violations.append(f"{self.case}: {called}: {violation}")

    def _transport(self, request: httpx2.Request) -> list[str]:
        """Method, endpoint, credential and content type."""
        entry = SCHEMAS[self.app]
        found: list[str] = []
        if request.method != "POST":
            found.append(f"sent {request.method}, GraphQL requests are POSTs")
        url = str(request.url.copy_with(query=None))
        if request.url.query or not re.fullmatch(_template(entry.endpoint), url):
            found.append(f"sent to {request.url}, the endpoint is {entry.endpoint}")
        auth = self.fixtures.app.auth.type.value
        documented = entry.auth.get(auth)
        if documented is None:
            found.append(f"the vendor documents no way to send a credential of type {auth}")
        else:
            header, _, template = documented.partition(": ")
            expected = template.format(**self.fixtures.credentials)
            sent = request.headers.get(header)
            if sent != expected:
                found.append(f"{header}: {sent!r}, documented for {auth} as {template!r}")
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type != "application/json":
            found.append(f"sent {content_type or 'no content type'}, not application/json")
        return found

    def _graphql(self, request: httpx2.Request, operations: list[str]) -> list[str]:
        """The body: its document against the schema, its variables against the document;
        the root fields it calls go in ``operations``."""
        entry = SCHEMAS[self.app]
        try:
            body = json.loads(request.content)
        except ValueError:
            return [f"the body is not JSON: {request.content[:200]!r}"]
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return [f"the body is not a GraphQL request {{query, variables}}: {body!r}"[:300]]
        found = [f"unexpected body member {name!r}" for name in body if name not in GRAPHQL_BODY]
        variables = body.get("variables")
        if variables is None:
            variables = {}
        elif not isinstance(variables, dict):
            return [*found, f"variables is not an object: {variables!r}"]
        try:
            document = parse(body["query"])
        except GraphQLError as error:
            return [*found, *_messages([error])]
        found += _messages(validate(schema(self.app), document, GRAPHQL_RULES))
        operation = get_operation_ast(document, body.get("operationName"))
        if not isinstance(operation, OperationDefinitionNode):
            return [*found, "the document holds no single operation to run"]
        kind = operation.operation.value
        fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        for name in _root_fields(fragments, operation.selection_set):
            if name != "__typename":
                operations.append(f"{kind} {name}")
        self.called.update(operations)
        found += [
            f"{called} is not among the operations SCHEMAS lists for {self.app}"
            for called in operations
            if called not in entry.operations
        ]
        definitions = operation.variable_definitions or ()
        declared = {definition.variable.name.value for definition in definitions}
        found += [f"undeclared variable {name!r}" for name in variables if name not in declared]
        coerced = get_variable_values(schema(self.app), definitions, variables)
        if isinstance(coerced, list):
            found += _messages(coerced)
        return found


@pytest.mark.parametrize("fixtures", GRAPHQL_RECORDED, ids=_key)
async def test_every_recorded_graphql_request_follows_the_vendor_schema(
    fixtures: AppFixtures,
) -> None:
    schema(fixtures.app.key)  # skips without the vendor's file
    checker = GraphQLChecker(fixtures)
    await replay_checked(fixtures, checker)
    uncalled = set(SCHEMAS[fixtures.app.key].operations) - checker.called
    assert not uncalled, f"SCHEMAS lists operations no recorded request calls: {uncalled}"


def test_the_graphql_check_finds_what_is_wrong() -> None:
    """The check is no rubber stamp: each kind of mistake in a Linear request is reported."""
    (fixtures,) = [fixtures for fixtures in GRAPHQL_RECORDED if fixtures.app.key == "linear"]
    schema("linear")  # skips without Linear's schema
    key = fixtures.credentials["api_key"]
    checker = GraphQLChecker(fixtures, case="mistakes")
    create = """mutation IssueCreate($input: IssueCreateInput!) {
      issueCreate(input: $input) { success issue { id boardOrder titel } }
    }"""
    checker.observe(
        httpx2.Request(
            "POST",
            "https://api.linear.app/graphql",
            headers={"Authorization": f"Bearer {key}"},
            json={
                "query": create,
                "variables": {"input": {"teamId": "t", "priority": "high"}, "extra": 1},
            },
        )
    )
    checker.observe(
        httpx2.Request(
            "GET",
            "https://api.linear.app/graphql?query=x",
            headers={"Authorization": key},
            json={"query": "query { issues { nodes { id } } }", "operation": "x"},
        )
    )
    violations = "\n".join(checker.violations)
    for expected in (
        "Authorization: 'Bearer lin_api_",  # a personal API key goes without Bearer
        "Cannot query field 'titel' on type 'Issue'",
        "The field Issue.boardOrder is deprecated",
        "undeclared variable 'extra'",
        "Variable '$input' has invalid value at .priority: Int cannot represent",
        "sent GET, GraphQL requests are POSTs",
        "the endpoint is https://api.linear.app/graphql",
        "unexpected body member 'operation'",
        "query issues is not among the operations SCHEMAS lists for linear",
    ):
        assert expected in violations, f"{expected!r} not in:\n{violations}"
    assert checker.called == {"mutation issueCreate", "query issues"}
