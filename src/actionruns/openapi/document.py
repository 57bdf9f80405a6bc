"""A description's operations, read the same way from OpenAPI 3.x and Swagger 2.0.

Swagger 2.0 says some things differently (``in: body`` and ``formData`` parameters instead of
a request body, ``securityDefinitions``, ``host`` and ``basePath``); each is read here into
the one shape the rest of the importer works with. Schemas stay where they are: a ``Node`` is
a piece of the description with the resolver that reads its references.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actionruns.openapi.errors import ImportFailed
from actionruns.openapi.load import Description, resolve

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
MAX_REF_HOPS = 64
JSON_TYPES = ("application/json", "application/vnd.api+json", "text/json", "*/*")
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# Answers that are files rather than data.
FILE_FAMILIES = ("audio", "image", "video")
FILE_TYPES = ("application/octet-stream", "application/pdf", "application/zip")


@dataclass(frozen=True)
class Node:
    """A value of the description, and the resolver for the references inside it."""

    value: Any
    resolver: Any

    def deref(self) -> Node:
        """The node a ``$ref`` chain ends at (itself if it is no reference)."""
        node = self
        for _ in range(MAX_REF_HOPS):
            ref = node.value.get("$ref") if isinstance(node.value, dict) else None
            if not isinstance(ref, str):
                return node
            contents, resolver = resolve(node.resolver, ref)
            node = Node(contents, resolver)
        raise ImportFailed(f"a chain of more than {MAX_REF_HOPS} references never ends.")

    def get(self, key: str) -> Node | None:
        value = self.value.get(key) if isinstance(self.value, dict) else None
        return None if value is None else Node(value, self.resolver)

    def items(self) -> Iterator[tuple[str, Node]]:
        if isinstance(self.value, dict):
            for key, value in self.value.items():
                yield str(key), Node(value, self.resolver)

    def elements(self) -> Iterator[Node]:
        if isinstance(self.value, list):
            for value in self.value:
                yield Node(value, self.resolver)


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query, header, cookie
    required: bool
    schema: Node
    description: str = ""
    style: str | None = None
    explode: bool | None = None
    deprecated: bool = False


@dataclass(frozen=True)
class Body:
    content_type: str
    schema: Node
    required: bool
    encoding: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""
    media_type: str = ""  # as declared: a JSON body may be application/vnd.api+json


@dataclass(frozen=True)
class Success:
    """The answer an operation gives when it works."""

    status: str
    schema: Node | None
    example: Any = None
    has_example: bool = False
    file_type: str = ""  # the answer is a file of this media type (a PDF, audio), not data


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str
    operation_id: str
    summary: str
    description: str
    deprecated: bool
    parameters: tuple[Parameter, ...]
    body: Body | None
    success: Success | None
    security: tuple[dict[str, list[str]], ...] | None  # None: the description's default
    tags: tuple[str, ...]
    unsupported_body: str = ""  # the content types of a body the importer cannot send
    server: str | None = None  # where this operation goes, if not the description's server
    # A GraphQL root field ("mutation issueCreate"); its request is a POST of a document.
    graphql: str = ""

    @property
    def name(self) -> str:
        """How an overlay or a report names it: "POST /v1/customers", "query teams"."""
        return self.graphql or f"{self.method} {self.path}"

    @property
    def reads(self) -> bool:
        """Whether it only reads (a GET, a GraphQL query): a READ or SEARCH action."""
        return self.graphql.startswith("query ") if self.graphql else self.method == "GET"

    @property
    def identity(self) -> str:
        """What tells whether it names the connected account: its path, or "/" and the
        GraphQL field ("/viewer")."""
        return "/" + self.graphql.split()[-1] if self.graphql else self.path


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _parameter_schema(node: Node, swagger: bool) -> Node:
    """A parameter's schema: ``schema`` in 3.x; in 2.0 the parameter is its own schema."""
    if not swagger:
        schema = node.get("schema")
        if schema is not None:
            return schema
        content = node.get("content")
        if content is not None:
            for _, media in content.items():
                inner = media.get("schema")
                if inner is not None:
                    return inner
        return Node({"type": "string"}, node.resolver)
    own = {key: value for key, value in node.value.items() if key not in ("name", "in")}
    if own.get("type") == "file":
        own = {**own, "type": "string", "format": "binary"}
    return Node(own, node.resolver)


_COLLECTION_FORMATS = {
    "csv": ("form", False),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "multi": ("form", True),
    "tsv": ("form", False),
}


def _parameter(node: Node, swagger: bool) -> Parameter:
    value = node.value
    if not isinstance(value, dict) or "name" not in value or "in" not in value:
        raise ImportFailed("a parameter needs a name and an in.")
    style, explode = value.get("style"), value.get("explode")
    if swagger and value.get("type") == "array":
        style, explode = _COLLECTION_FORMATS.get(
            value.get("collectionFormat", "csv"), ("form", False)
        )
        if value["in"] == "path":
            style = "simple"
    return Parameter(
        name=str(value["name"]),
        location=str(value["in"]),
        required=bool(value.get("required")) or value["in"] == "path",
        schema=_parameter_schema(node, swagger),
        description=_text(value.get("description")),
        style=style if isinstance(style, str) else None,
        explode=explode if isinstance(explode, bool) else None,
        deprecated=bool(value.get("deprecated")),
    )


def _merged_parameters(item: Node, operation: Node) -> list[Node]:
    """The path item's parameters, overridden by the operation's own (same name and in)."""
    found: dict[tuple[str, str], Node] = {}
    for source in (item.get("parameters"), operation.get("parameters")):
        if source is None:
            continue
        if not isinstance(source.value, list):
            raise ImportFailed("parameters must be a list.")
        for element in source.elements():
            node = element.deref()
            if isinstance(node.value, dict):
                found[(str(node.value.get("in")), str(node.value.get("name")))] = node
    return list(found.values())


def is_json(media_type: str) -> bool:
    return media_type in JSON_TYPES or media_type.endswith("+json")


def _pick_media(content: Node) -> tuple[str, Node] | None:
    """The request or response media type the importer can use best: JSON, then forms."""
    media = {name.split(";")[0].strip().lower(): node for name, node in content.items()}
    for wanted in (*JSON_TYPES, FORM, MULTIPART):
        if wanted in media:
            return wanted, media[wanted]
    return next(((name, node) for name, node in media.items() if is_json(name)), None)


def _content(node: Node) -> Node | None:
    """A body's or an answer's media types; bundlers (Lob's) put them behind a ``$ref`` too."""
    content = node.get("content")
    return content.deref() if content is not None else None


def _file_media(content: Node) -> str:
    """The media type of a file answer among the answer's (a document, audio, an image, or
    anything declared ``format: binary``), or "" when the answer is data or text."""
    for name, node in content.items():
        kind = name.split(";")[0].strip().lower()
        schema = node.get("schema")
        binary = schema is not None and schema.deref().value.get("format") == "binary"
        if binary or kind.split("/")[0] in FILE_FAMILIES or kind in FILE_TYPES:
            return kind
    return ""


def _body_3(operation: Node) -> tuple[Body | None, str]:
    node = operation.get("requestBody")
    if node is None:
        return None, ""
    node = node.deref()
    content = _content(node)
    if content is None:
        return None, ""
    picked = _pick_media(content)
    if picked is None:
        return None, ", ".join(name for name, _ in content.items())
    content_type, media = picked
    schema = media.get("schema") or Node({}, media.resolver)
    encoding = media.value.get("encoding") if isinstance(media.value, dict) else None
    return (
        Body(
            content_type="application/json" if is_json(content_type) else content_type,
            media_type=content_type,
            schema=schema,
            required=bool(node.value.get("required")),
            encoding=encoding if isinstance(encoding, dict) else {},
            description=_text(node.value.get("description")),
        ),
        "",
    )


def _body_2(parameters: list[Node], consumes: list[str]) -> Body | None:
    body = next((p for p in parameters if p.value.get("in") == "body"), None)
    if body is not None:
        return Body(
            "application/json",
            body.get("schema") or Node({}, body.resolver),
            bool(body.value.get("required")),
            description=_text(body.value.get("description")),
        )
    form = [p for p in parameters if p.value.get("in") == "formData"]
    if not form:
        return None
    files = any(p.value.get("type") == "file" for p in form)
    content_type = MULTIPART if files or (MULTIPART in consumes and FORM not in consumes) else FORM
    properties = {}
    required = []
    encoding: dict[str, dict[str, Any]] = {}
    for parameter in form:
        name = str(parameter.value["name"])
        properties[name] = _parameter_schema(parameter, swagger=True).value
        if parameter.value.get("required"):
            required.append(name)
        if parameter.value.get("type") == "array":
            style, explode = _COLLECTION_FORMATS.get(
                parameter.value.get("collectionFormat", "csv"), ("form", False)
            )
            encoding[name] = {"style": style, "explode": explode}
    schema = Node(
        {"type": "object", "properties": properties, "required": required}, form[0].resolver
    )
    return Body(content_type, schema, bool(required), encoding)


def _success(operation: Node, swagger: bool) -> Success | None:
    responses = operation.get("responses")
    if responses is None:
        return None
    codes = {str(code): node for code, node in responses.items()}
    ordered = sorted(
        code for code in codes if code.startswith("2") and len(code) == 3 and code.isdigit()
    )
    ordered += [code for code in ("2XX", "2xx", "default") if code in codes]
    for code in ordered:
        node = codes[code].deref()
        if swagger:
            schema = node.get("schema")
            examples = node.value.get("examples") if isinstance(node.value, dict) else None
            example = examples.get("application/json") if isinstance(examples, dict) else None
            if schema is None and code == "default":
                continue
            return Success(code, schema, example, example is not None)
        content = _content(node)
        if content is None:
            if code == "default":
                continue
            return Success(code, None)
        picked = _pick_media(content)
        if picked is None or not is_json(picked[0]):
            return Success(code, None, file_type=_file_media(content))
        media = picked[1]
        example, has_example = _media_example(media)
        return Success(code, media.get("schema"), example, has_example)
    return None


def _media_example(media: Node) -> tuple[Any, bool]:
    if isinstance(media.value, dict) and "example" in media.value:
        return media.value["example"], True
    examples = media.get("examples")
    if examples is not None:
        for _, example in examples.items():
            resolved = example.deref().value
            if isinstance(resolved, dict) and "value" in resolved:
                return resolved["value"], True
    return None, False


def _security(value: Any) -> tuple[dict[str, list[str]], ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(
        {str(name): list(scopes or []) for name, scopes in requirement.items()}
        for requirement in value
        if isinstance(requirement, dict)
    )


def operations(description: Description) -> list[Operation]:
    """Every operation of the description, in its order."""
    root = Node(description.root, description.resolver)
    swagger = description.is_swagger
    global_consumes = description.root.get("consumes") or []
    found: list[Operation] = []
    paths = root.get("paths")
    for path, item in paths.items() if paths is not None else ():
        item = item.deref()
        if not isinstance(item.value, dict):
            raise ImportFailed(f"paths[{path!r}] must be an object.")
        for method in METHODS:
            node = item.get(method)
            if node is None:
                continue
            # OpenAPI has no $ref for an operation, but DigitalOcean's description keeps each
            # operation in a file of its own and refers to it so; its own references are
            # read from where it is.
            node = node.deref()
            if not isinstance(node.value, dict):
                raise ImportFailed(f"{method.upper()} {path} must be an object.")
            value = node.value
            parameters = _merged_parameters(item, node)
            unsupported = ""
            if swagger:
                consumes = value.get("consumes") or global_consumes
                body = _body_2(parameters, list(consumes))
                plain = [p for p in parameters if p.value.get("in") not in ("body", "formData")]
            else:
                body, unsupported = _body_3(node)
                plain = parameters
            found.append(
                Operation(
                    method=method.upper(),
                    path=str(path),
                    operation_id=_text(value.get("operationId")),
                    summary=_text(value.get("summary")),
                    description=_text(value.get("description")),
                    deprecated=bool(value.get("deprecated")),
                    parameters=tuple(_parameter(p, swagger) for p in plain),
                    body=body,
                    success=_success(node, swagger),
                    security=_security(value.get("security")),
                    tags=tuple(str(tag) for tag in value.get("tags") or () if isinstance(tag, str)),
                    unsupported_body=unsupported,
                    server=_own_server(value) or _own_server(item.value),
                )
            )
    return found


def _own_server(value: dict[str, Any]) -> str | None:
    """An operation's or path's own server (OpenAPI 3 lets either override the description's),
    its variables filled with their defaults; only an absolute one."""
    listed = value.get("servers")
    if not isinstance(listed, list) or not listed or not isinstance(listed[0], dict):
        return None
    url = str(listed[0].get("url") or "")
    variables = listed[0].get("variables")
    for name, variable in (variables if isinstance(variables, dict) else {}).items():
        if isinstance(variable, dict) and variable.get("default") is not None:
            url = url.replace("{" + str(name) + "}", str(variable["default"]))
    return url.rstrip("/") if url.startswith(("https://", "http://")) and "{" not in url else None


def servers(description: Description) -> list[tuple[str, dict[str, Any]]]:
    """The description's servers: (URL template, variables), best first."""
    root = description.root
    if description.is_swagger:
        host = root.get("host")
        if not isinstance(host, str) or not host:
            return []
        schemes = root.get("schemes") or ["https"]
        scheme = "https" if "https" in schemes else str(schemes[0])
        return [(f"{scheme}://{host}{root.get('basePath') or ''}".rstrip("/"), {})]
    listed = root.get("servers")
    result = []
    for server in listed if isinstance(listed, list) else []:
        if isinstance(server, dict) and isinstance(server.get("url"), str):
            variables = server.get("variables")
            result.append(
                (server["url"].rstrip("/"), variables if isinstance(variables, dict) else {})
            )
    return result


@dataclass
class Parsed:
    """A description read: what the importer needs of it, whatever its kind."""

    operations: list[Operation]
    servers: list[tuple[str, dict[str, Any]]]
    schemes: dict[str, Node]
    default_security: tuple[dict[str, list[str]], ...]
    info: dict[str, Any]
    kind: str  # openapi, swagger, graphql
    spec_version: str
    name: str  # the file's
    files: list[Path]
    resolver: Any = None


def parse_openapi(description: Description) -> Parsed:
    info = description.root.get("info")
    return Parsed(
        operations=operations(description),
        servers=servers(description),
        schemes=security_schemes(description),
        default_security=default_security(description),
        info=info if isinstance(info, dict) else {},
        kind="swagger" if description.is_swagger else "openapi",
        spec_version=description.spec_version,
        name=description.name,
        files=description.files,
        resolver=description.resolver,
    )


def security_schemes(description: Description) -> dict[str, Node]:
    root = Node(description.root, description.resolver)
    if description.is_swagger:
        holder = root.get("securityDefinitions")
    else:
        components = root.get("components")
        holder = components.get("securitySchemes") if components is not None else None
    return {name: node.deref() for name, node in holder.items()} if holder is not None else {}


def default_security(description: Description) -> tuple[dict[str, list[str]], ...]:
    return _security(description.root.get("security")) or ()
