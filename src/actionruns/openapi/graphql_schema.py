"""A GraphQL schema read as operations the importer makes actions of.

Each root field of ``Query`` and ``Mutation`` is an operation: a POST to the endpoint of a
JSON body holding a fixed document and the variables. Its arguments are described as a JSON
Schema (input objects as components, enums as enums, ``!`` as required), so fields, overlays
and requests work as for OpenAPI; the answer's schema is made from the document's selection:
a type's scalar fields, its object fields' scalars one level down, a connection's ``nodes``
(with ``pageInfo``). An overlay's ``selection`` replaces the default one.

The schema is SDL (``.graphql``, ``.gql``) or an introspection result (JSON with
``__schema``); graphql-core reads both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLNamedType,
    GraphQLOutputType,
    GraphQLSchema,
    Undefined,
    build_client_schema,
    build_schema,
    get_named_type,
    is_enum_type,
    is_input_object_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_union_type,
    value_from_ast_untyped,
)
from referencing import Registry, Specification

from actionruns.openapi.document import Body, Node, Operation, Parsed, Success
from actionruns.openapi.errors import ImportFailed
from actionruns.openapi.load import MAX_FILE_BYTES
from actionruns.openapi.naming import words

SUFFIXES = (".graphql", ".gql", ".graphqls")
URI = "urn:actionruns:graphql-schema"
MAX_LEAVES = 25  # scalar fields selected of one object
MAX_OBJECTS = 6  # object fields selected (their scalars) of one object
# Words that end a mutation's name and read better first: issueCreate → "Create issue".
VERBS = {
    "create",
    "update",
    "delete",
    "archive",
    "unarchive",
    "add",
    "remove",
    "set",
    "send",
    "cancel",
    "close",
    "open",
    "publish",
    "unpublish",
    "assign",
    "invite",
    "move",
    "merge",
    "complete",
    "start",
    "stop",
    "upsert",
    "import",
    "export",
    "enable",
    "disable",
    "duplicate",
}


def is_graphql(source: Path) -> bool:
    if source.suffix in SUFFIXES:
        return True
    if source.suffix == ".json" and source.is_file():
        return '"__schema"' in source.read_text(errors="replace")[:65536]
    return False


def _scalar(name: str) -> dict[str, Any]:
    lowered = name.lower()
    if name == "Int":
        return {"type": "integer"}
    if name == "Float":
        return {"type": "number"}
    if name == "Boolean":
        return {"type": "boolean"}
    if "datetime" in lowered or "timestamp" in lowered:
        return {"type": "string", "format": "date-time"}
    if lowered == "date":
        return {"type": "string", "format": "date"}
    if lowered.startswith("json"):
        return {}
    return {"type": "string"}


class _Converter:
    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.components: dict[str, Any] = {}

    def _leaf(self, named: GraphQLNamedType) -> dict[str, Any]:
        if is_enum_type(named):
            values = [n for n, v in named.values.items() if v.deprecation_reason is None]
            return {"type": "string", "enum": values}
        return _scalar(named.name)

    def input_schema(self, graphql_type: GraphQLInputType) -> dict[str, Any]:
        if is_non_null_type(graphql_type):
            return self.input_schema(graphql_type.of_type)
        if is_list_type(graphql_type):
            return {"type": "array", "items": self.input_schema(graphql_type.of_type)}
        named = get_named_type(graphql_type)
        if is_input_object_type(named):
            return self._input_object(named)
        return self._leaf(named)

    def _input_object(self, named: GraphQLInputObjectType) -> dict[str, Any]:
        if named.name not in self.components:
            self.components[named.name] = {}  # a recursive input refers to itself
            self.components[named.name] = self.arguments_schema(
                {
                    name: (
                        field.type,
                        _default(field),
                        field.description,
                        field.deprecation_reason,
                    )
                    for name, field in named.fields.items()
                },
                named.description,
            )
        return {"$ref": f"#/components/{named.name}"}

    def arguments_schema(
        self,
        arguments: Mapping[str, tuple[Any, Any, str | None, str | None]],
        description: str | None = None,
    ) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required = []
        for name, (graphql_type, default, text, deprecated) in arguments.items():
            if deprecated is not None:
                continue
            schema = dict(self.input_schema(graphql_type))
            if text:
                schema = (
                    {"allOf": [schema], "description": text}
                    if "$ref" in schema
                    else {**schema, "description": text}
                )
            if default is not Undefined and default is not None:
                schema["default"] = default
            properties[name] = schema
            if is_non_null_type(graphql_type) and default is Undefined:
                required.append(name)
        found: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
        if description:
            found["description"] = description
        return found

    def selection(
        self, graphql_type: GraphQLOutputType, depth: int = 0
    ) -> tuple[str, dict[str, Any]]:
        """The default selection of a type, and the JSON Schema of what it answers."""
        listed = False
        inner: Any = graphql_type
        while is_non_null_type(inner) or is_list_type(inner):
            listed = listed or is_list_type(inner)
            inner = inner.of_type
        named = get_named_type(graphql_type)
        if is_leaf_type(named):
            text, schema = "", self._leaf(named)
        elif is_union_type(named):
            text, schema = (
                "{ __typename }",
                {"type": "object", "properties": {"__typename": {"type": "string"}}},
            )
        else:
            text, schema = self._object_selection(named, depth)
        return text, ({"type": "array", "items": schema} if listed else schema)

    def _object_selection(self, named: Any, depth: int) -> tuple[str, dict[str, Any]]:
        fields: dict[str, GraphQLField] = named.fields
        parts: list[str] = []
        properties: dict[str, Any] = {}
        nodes = fields.get("nodes")
        if depth == 0 and nodes is not None and is_list_type(_nullable(nodes.type)):
            # A connection: its nodes, as a list, and where the next page starts.
            text, schema = self.selection(nodes.type, 0)
            parts.append(f"nodes {text}")
            properties["nodes"] = schema
            if "pageInfo" in fields:
                parts.append("pageInfo { hasNextPage endCursor }")
                properties["pageInfo"] = {
                    "type": "object",
                    "properties": {
                        "hasNextPage": {"type": "boolean"},
                        "endCursor": {"type": "string"},
                    },
                }
            return "{ " + " ".join(parts) + " }", {"type": "object", "properties": properties}
        leaves = objects = 0
        for name, field in sorted(fields.items(), key=lambda item: _priority(item[0])):
            if field.deprecation_reason is not None or _needs_arguments(field):
                continue
            if is_leaf_type(get_named_type(field.type)):
                if leaves < MAX_LEAVES:
                    leaves += 1
                    parts.append(name)
                    properties[name] = self.selection(field.type, depth + 1)[1]
            elif (
                depth == 0
                and objects < MAX_OBJECTS
                and not is_union_type(get_named_type(field.type))
            ):
                text, schema = self.selection(field.type, depth + 1)
                if text:
                    objects += 1
                    parts.append(f"{name} {text}")
                    properties[name] = schema
        if not parts:
            if depth > 0:  # nothing plain to ask of it (a connection one level down)
                return "", {}
            parts, properties = ["__typename"], {"__typename": {"type": "string"}}
        return "{ " + " ".join(parts) + " }", {"type": "object", "properties": properties}


# Fields a person looks for first, in this order; the rest alphabetically after them.
_FIRST = (
    "id",
    "identifier",
    "key",
    "name",
    "title",
    "displayName",
    "email",
    "url",
    "state",
    "status",
    "description",
    "createdAt",
    "updatedAt",
)


def _priority(name: str) -> tuple[int, str]:
    return (_FIRST.index(name) if name in _FIRST else len(_FIRST), name)


def _default(argument: Any) -> Any:
    """An argument's or input field's default, or ``Undefined``: graphql-core 3.3 keeps it
    as written (``default.literal``), 3.2 as ``default_value``."""
    default = getattr(argument, "default", None)
    if default is not None:
        literal: Any = getattr(default, "literal", Undefined)
        if literal is not Undefined and literal is not None:
            return value_from_ast_untyped(literal)
        if getattr(default, "value", Undefined) is not Undefined:
            return default.value
    return argument.default_value


def _nullable(graphql_type: Any) -> Any:
    return graphql_type.of_type if is_non_null_type(graphql_type) else graphql_type


def _needs_arguments(field: GraphQLField) -> bool:
    return any(is_non_null_type(a.type) and _default(a) is Undefined for a in field.args.values())


def readable(name: str) -> str:
    """A root field's name as a title: ``issueCreate`` → "Create issue"."""
    parts = [word.lower() for word in words(name)]
    if len(parts) > 1 and parts[-1] in VERBS:
        parts = [parts[-1], *parts[:-1]]
    text = " ".join(parts)
    return text[:1].upper() + text[1:]


def _schema(source: Path) -> GraphQLSchema:
    size = source.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImportFailed(
            f"{source.name} is {size / 1e6:.0f} MB, over the limit of a schema file."
        )
    text = source.read_text(encoding="utf-8", errors="replace")
    try:
        if source.suffix == ".json":
            document = json.loads(text)
            return build_client_schema(document.get("data", document))
        return build_schema(text, assume_valid=True, no_location=True)
    except (GraphQLError, TypeError, ValueError, KeyError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportFailed(f"{source.name} is not a GraphQL schema: {reason}") from None


def parse_graphql(source: Path, selections: Mapping[str, str]) -> Parsed:
    """The schema at ``source`` as operations; ``selections`` replace the default selection
    of the root fields they name ("mutation issueCreate" or "issueCreate")."""
    schema = _schema(source)
    converter = _Converter(schema)
    made: list[tuple[str, str, GraphQLField, str, dict[str, Any], dict[str, Any]]] = []
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        for name, field in (root.fields if root is not None else {}).items():
            chosen = selections.get(f"{kind} {name}") or selections.get(name)
            text, answer = converter.selection(field.type)
            if chosen is not None:
                text, answer = chosen, {}
            arguments = {
                a: (arg.type, _default(arg), arg.description, arg.deprecation_reason)
                for a, arg in field.args.items()
            }
            variables = converter.arguments_schema(arguments)
            made.append((kind, name, field, _document(kind, name, field, text), variables, answer))
    root_document = {"components": converter.components}
    registry: Registry[Any] = Registry().with_resource(
        URI, Specification.OPAQUE.create_resource(root_document)
    )
    resolver = registry.resolver(base_uri=URI)
    operations = []
    for kind, name, field, document, variables, answer in made:
        body: dict[str, Any] = {
            "type": "object",
            "required": ["query"],
            "properties": {"query": {"type": "string", "const": document}},
        }
        if variables["properties"]:
            body["properties"]["variables"] = variables
            body["required"].append("variables")
        response = {
            "type": "object",
            "properties": {"data": {"type": "object", "properties": {name: answer}}},
        }
        operations.append(
            Operation(
                method="POST",
                path="",
                operation_id=name,
                summary=readable(name),
                description=(field.description or "").strip(),
                deprecated=field.deprecation_reason is not None,
                parameters=(),
                body=Body("application/json", Node(body, resolver), required=True),
                success=Success("200", Node(response, resolver)),
                security=None,
                tags=(),
                graphql=f"{kind} {name}",
            )
        )
    return Parsed(
        operations=operations,
        servers=[],
        schemes={},
        default_security=(),
        info={"title": source.stem.replace("_", " ").replace("-", " ").title(), "version": ""},
        kind="graphql",
        spec_version="graphql",
        name=source.name,
        files=[source],
        resolver=resolver,
    )


def _document(kind: str, name: str, field: GraphQLField, selection: str) -> str:
    declared = [
        f"${a}: {arg.type}" for a, arg in field.args.items() if arg.deprecation_reason is None
    ]
    passed = [f"{a}: ${a}" for a, arg in field.args.items() if arg.deprecation_reason is None]
    operation = name[:1].upper() + name[1:]
    head = f"{kind} {operation}" + (f"({', '.join(declared)})" if declared else "")
    call = name + (f"({', '.join(passed)})" if passed else "")
    return f"{head} {{ {call} {selection} }}".replace("  ", " ")
