"""JSON Schemas read for what fields need: one type, properties, required, enum, default.

``shape`` folds what OpenAPI lets a schema say in several ways into one ``Shape``: ``allOf``
merged; ``oneOf``/``anyOf`` reduced to one alternative where the others are only ``null`` or
an empty-string "unset" (Stripe's way), merged where all are objects, and otherwise left as
JSON; 3.0's ``nullable`` and 3.1's ``type: [..., "null"]`` both just make it optional.
Recursive schemas end where they repeat: a schema already being read is taken as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from actionruns.openapi.document import Node
from actionruns.openapi.errors import DanglingReference

SCALARS = {"string", "integer", "number", "boolean"}
MAX_MERGE_DEPTH = 32


@dataclass
class Shape:
    type: str = ""  # "", object, array, string, integer, number, boolean, json
    format: str = ""
    properties: dict[str, Node] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    items: Node | None = None
    additional: bool = False
    enum: list[Any] = field(default_factory=list)
    default: Any = None
    example: Any = None
    has_example: bool = False
    description: str = ""
    title: str = ""
    read_only: bool = False
    write_only: bool = False
    deprecated: bool = False
    const: Any = None
    has_const: bool = False
    max_length: int | None = None
    recursive: bool = False  # met itself while being read


def _own_type(value: dict[str, Any]) -> str:
    declared = value.get("type")
    if isinstance(declared, list):
        types = [t for t in declared if t != "null"]
        declared = types[0] if len(types) == 1 else ("json" if types else "")
    if isinstance(declared, str) and declared:
        return declared
    if "properties" in value or "additionalProperties" in value:
        return "object"
    if "items" in value:
        return "array"
    if value.get("enum"):
        first = next((item for item in value["enum"] if item is not None), None)
        return {bool: "boolean", int: "integer", float: "number"}.get(type(first), "string")
    return ""


def _is_unset_marker(node: Node) -> bool:
    """``null``, or Stripe's ``enum: [""]``: an alternative meaning "no value"."""
    value = node.value
    if not isinstance(value, dict):
        return False
    if value.get("type") == "null" or (value.get("nullable") is True and len(value) == 1):
        return True
    enum = value.get("enum")
    return isinstance(enum, list) and all(item in ("", None) for item in enum) and bool(enum)


class _Reader:
    def __init__(self) -> None:
        self.stack: set[int] = set()
        self.dangling: set[str] = set()  # what references pointed at nothing
        # Shapes read, by the schema object (kept alive beside, so its id is not reused):
        # operations share most schemas, and a description is read once.
        self._read_before: dict[int, tuple[Any, Shape]] = {}

    def shape(self, node: Node, depth: int = 0) -> Shape:
        try:
            node = node.deref()
        except DanglingReference as exc:
            self.dangling.add(str(exc))
            return Shape(type="json")
        value = node.value
        if not isinstance(value, dict):  # ``true`` (anything) or a malformed schema
            return Shape(type="json")
        marker = id(value)
        if marker in self._read_before:
            return _copy(self._read_before[marker][1])
        if marker in self.stack or depth > MAX_MERGE_DEPTH:
            return Shape(type="json", recursive=True, description=_doc(value, "description"))
        self.stack.add(marker)
        try:
            found = self._read(node, value, depth)
        finally:
            self.stack.discard(marker)
        if not found.recursive:  # what a schema met inside itself depends on where it was read
            self._read_before[marker] = (value, _copy(found))
        return found

    def _read(self, node: Node, value: dict[str, Any], depth: int) -> Shape:
        shape = Shape(
            type=_own_type(value),
            format=str(value.get("format") or ""),
            enum=[item for item in value.get("enum") or [] if item is not None]
            if isinstance(value.get("enum"), list)
            else [],
            default=value.get("default"),
            description=_doc(value, "description"),
            title=_doc(value, "title"),
            read_only=bool(value.get("readOnly")),
            write_only=bool(value.get("writeOnly")),
            deprecated=bool(value.get("deprecated")),
            max_length=value.get("maxLength") if isinstance(value.get("maxLength"), int) else None,
        )
        if "example" in value:
            shape.example, shape.has_example = value["example"], True
        elif isinstance(value.get("examples"), list) and value["examples"]:
            shape.example, shape.has_example = value["examples"][0], True
        if "const" in value:
            shape.const, shape.has_const = value["const"], True
        properties = node.get("properties")
        if properties is not None:
            shape.properties = dict(properties.items())
        if isinstance(value.get("required"), list):
            shape.required = {str(name) for name in value["required"]}
        shape.items = node.get("items")
        additional = value.get("additionalProperties")
        shape.additional = additional is True or isinstance(additional, dict)
        parts = node.get("allOf")
        for part in parts.elements() if parts is not None else ():
            self._merge(shape, self.shape(part, depth + 1))
        for keyword in ("oneOf", "anyOf"):
            alternatives = node.get(keyword)
            if alternatives is not None:
                self._merge(shape, self._alternatives(list(alternatives.elements()), depth))
        return shape

    def _alternatives(self, nodes: list[Node], depth: int) -> Shape:
        real = [node for node in nodes if not _is_unset_marker(node.deref())]
        shapes = [self.shape(node, depth + 1) for node in real]
        shapes = [shape for shape in shapes if not _only_requires(shape)]
        if not shapes:
            return Shape()
        if len(shapes) == 1:
            return shapes[0]
        types = {shape.type for shape in shapes}
        if types == {"object"}:
            merged = Shape(type="object")
            for shape in shapes:
                # Any one of them may be sent: none of their properties is required.
                required = shape.required
                shape.required = set()
                self._merge(merged, shape)
                shape.required = required
            return merged
        items = [shape.items for shape in shapes if shape.type == "array" and shape.items]
        if len(types) == 2 and len(items) == 1:
            # One value or a list of them (Resend's ``to``): a list field takes either.
            listed = self.shape(items[0], depth + 1)
            if types - {"array"} == {listed.type} and listed.type in SCALARS:
                return next(shape for shape in shapes if shape.type == "array")
        if len(types) == 1 and types <= SCALARS:
            merged = shapes[0]
            every = [] if any(not s.enum for s in shapes) else [v for s in shapes for v in s.enum]
            merged.enum = every
            return merged
        return Shape(
            type="json", description=next((s.description for s in shapes if s.description), "")
        )

    @staticmethod
    def _merge(target: Shape, part: Shape) -> None:
        if part.type and not target.type:
            target.type = part.type
        elif part.type and target.type != part.type:
            target.type = "json"  # alternatives of different kinds: only JSON can say either
        for name, schema in part.properties.items():
            target.properties.setdefault(name, schema)
        target.required |= part.required
        target.items = target.items or part.items
        target.additional = target.additional or part.additional
        target.enum = target.enum or part.enum
        target.format = target.format or part.format
        target.max_length = target.max_length or part.max_length
        for attribute in ("description", "title"):
            if not getattr(target, attribute):
                setattr(target, attribute, getattr(part, attribute))
        if target.default is None:
            target.default = part.default
        if not target.has_example and part.has_example:
            target.example, target.has_example = part.example, True
        target.read_only = target.read_only or part.read_only
        target.write_only = target.write_only or part.write_only
        target.recursive = target.recursive or part.recursive


def _only_requires(found: Shape) -> bool:
    """An alternative that only says which properties must be there (Lob's ``anyOf:
    [{required: [name]}, {required: [company]}]``): a rule about the object beside it, not
    a kind of value of its own."""
    return bool(found.required) and not (
        found.type or found.properties or found.items or found.enum or found.has_const
    )


def _copy(found: Shape) -> Shape:
    return replace(
        found,
        properties=dict(found.properties),
        required=set(found.required),
        enum=list(found.enum),
    )


def _doc(value: dict[str, Any], key: str) -> str:
    text = value.get(key)
    return text.strip() if isinstance(text, str) else ""


def shape(node: Node) -> Shape:
    return _Reader().shape(node)


_PLACEHOLDERS = {
    "date-time": "2024-05-01T12:00:00Z",
    "date": "2024-05-01",
    "email": "ada@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
}


def sample_of(node: Node, depth: int = 0, reader: _Reader | None = None) -> Any:
    """A sample value for a schema: its example, else one made from its properties' examples,
    defaults and first enum values, else a plausible value of its type."""
    reader = reader or _Reader()
    found = reader.shape(node)
    if found.has_example:
        return found.example
    if found.has_const:
        return found.const
    if found.enum:
        return found.enum[0]
    if found.default is not None:
        return found.default
    if found.type == "object" or found.properties:
        if depth >= 3:
            return {}
        return {
            name: sample_of(child, depth + 1, reader)
            for name, child in list(found.properties.items())[:60]
            if not reader.shape(child).write_only
        }
    if found.type == "array":
        if found.items is None or depth >= 3:
            return []
        return [sample_of(found.items, depth + 1, reader)]
    if found.type == "integer":
        return 1
    if found.type == "number":
        return 1.5
    if found.type == "boolean":
        return True
    if found.type == "string":
        return _PLACEHOLDERS.get(found.format, "string")
    return None
