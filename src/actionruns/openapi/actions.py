"""One operation made into an action: its fields and where each goes, its outputs and sample.

Parameters become fields first (path, query, header, cookie), then the request body's
properties: nested objects flattened with ``__`` (``address__city``) down to ``MAX_DEPTH``,
deeper or recursive ones kept as a JSON field; a body wrapped in one envelope property
(Asana's ``{"data": {...}}``) is unwrapped, and so is an answer. Outputs are the answer's
properties, nested ones flattened with ``__`` as Zapier's output fields are.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from actionruns.openapi.document import FORM, MULTIPART, Body, Node, Operation, Parameter
from actionruns.openapi.naming import first_sentence, snake, title, unique
from actionruns.openapi.schemas import SCALARS, Shape, _Reader, sample_of
from actionruns.sdk.app import ActionType
from actionruns.sdk.described.manifest import Binding, ChoiceSpec, FieldSpec, OutputSpec
from actionruns.sdk.fields import FieldType

MAX_DEPTH = 2  # address__city; deeper objects are JSON
MAX_FIELDS = 150  # past this, a body's nested objects are not flattened
MAX_OUTPUTS = 80
OUTPUT_DEPTH = 3  # owner__address__city; Zapier flattens nested outputs the same way
# Headers the service sets itself: the body's type, what it accepts, the credentials.
OWN_HEADERS = {"authorization", "content-type", "accept", "content-length", "user-agent"}
# Names of the list in a list endpoint's answer, when it has other properties beside it.
LIST_NAMES = ("data", "items", "results", "records", "entries", "values", "elements", "nodes")
# The members of a JSON:API document's top level, beside its ``data``.
JSON_API_MEMBERS = {"data", "links", "meta", "included", "jsonapi"}
LONG_TEXT_NAMES = {
    "body",
    "description",
    "text",
    "message",
    "content",
    "html",
    "comment",
    "notes",
    "note",
    "markdown",
}
_TYPES = {
    "integer": FieldType.INTEGER,
    "number": FieldType.NUMBER,
    "boolean": FieldType.BOOLEAN,
}


@dataclass
class Draft:
    """A field as the description makes it, before an overlay changes it; ``source`` is its
    name in the description (``AccountSid``, ``address.city``). A value the description
    fixes has a binding and no field (``spec`` None)."""

    spec: FieldSpec | None
    source: str
    binding: Binding


def _field_type(found: Shape, name: str, multipart: bool) -> FieldType:
    if found.type in _TYPES:
        return _TYPES[found.type]
    if found.type == "string":
        if found.format == "binary" and multipart:
            return FieldType.FILE
        if found.format == "date-time":
            return FieldType.DATETIME
        if found.format == "password":
            return FieldType.PASSWORD
        if snake(name) in LONG_TEXT_NAMES or (found.max_length or 0) > 1000:
            return FieldType.TEXT
        return FieldType.STRING
    if found.type == "object" and found.additional and not found.properties:
        return FieldType.DICT
    if found.type in ("", "json", "object", "array"):
        return FieldType.JSON
    return FieldType.STRING


def _default(value: Any, kind: FieldType) -> Any:
    if value is None or (isinstance(value, dict | list) and kind is not FieldType.JSON):
        return None
    return value


class FieldMaker:
    """Makes the fields of one action; keys are unique within it."""

    def __init__(self, reader: _Reader, multipart: bool = False) -> None:
        self.reader = reader
        self.taken: set[str] = set()
        self.multipart = multipart

    def field(
        self, found: Shape, name: str, key: str, required: bool, where: str, description: str = ""
    ) -> FieldSpec:
        is_list = found.type == "array" and found.items is not None
        item = self.reader.shape(found.items) if is_list and found.items is not None else found
        if is_list and item.type not in SCALARS:
            is_list, item = False, found  # a list of objects is given as JSON
        kind = _field_type(item, name, self.multipart)
        choices = tuple(ChoiceSpec(value=_choice_text(value)) for value in item.enum)
        text = first_sentence(description or found.description)
        label = found.title if found.title and len(found.title) <= 60 else title(name)
        return FieldSpec(
            key=unique(key, self.taken, limit=120),
            label=label,
            type=kind,
            required=required,
            default=None if is_list else _default(found.default, kind),
            help_text=text or f"{where} {name}.",
            placeholder=str(found.example)[:100]
            if found.has_example and not isinstance(found.example, dict | list)
            else "",
            choices=choices if len(choices) <= 500 else (),
            list=is_list,
            secret=kind is FieldType.PASSWORD,
        )


def _choice_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parameter_drafts(
    maker: FieldMaker, parameters: Iterable[Parameter], credentials: set[tuple[str, str]]
) -> list[Draft]:
    drafts = []
    for parameter in parameters:
        lowered = parameter.name.lower()
        if parameter.location == "header" and lowered in OWN_HEADERS:
            continue
        if (parameter.location, lowered) in credentials or parameter.deprecated:
            continue
        found = maker.reader.shape(parameter.schema)
        binding = Binding(
            location=parameter.location,
            name=parameter.name,
            style=parameter.style,
            explode=parameter.explode,
        )
        single = found.enum if len(found.enum) == 1 else [found.const] if found.has_const else []
        if parameter.required and single:
            # A header every call sends the same (GitHub's X-GitHub-Api-Version): not a field.
            fixed = binding.model_copy(update={"value": single[0]})
            drafts.append(Draft(None, parameter.name, fixed))
            continue
        where = {"path": "The", "query": "The", "header": "The header", "cookie": "The cookie"}
        spec = maker.field(
            found,
            parameter.name,
            snake(parameter.name),
            parameter.required,
            where.get(parameter.location, "The"),
            parameter.description,
        )
        drafts.append(Draft(spec, parameter.name, binding.model_copy(update={"field": spec.key})))
    return drafts


def envelope(found: Shape, reader: _Reader) -> tuple[str, Shape] | None:
    """The one property an object wraps everything in (``data``), and what it holds."""
    if found.type != "object" or len(found.properties) != 1 or found.additional:
        return None
    name, node = next(iter(found.properties.items()))
    inner = reader.shape(node)
    if inner.type == "object" and inner.properties:
        return name, inner
    return None


def body_drafts(maker: FieldMaker, body: Body, flatten: int = MAX_DEPTH) -> list[Draft]:
    """The body's fields: objects nested ``flatten`` levels deep or less are flattened, deeper
    ones are JSON fields."""
    top = maker.reader.shape(body.schema)
    drafts: list[Draft] = []
    # A property the schema fixes (``const``: a GraphQL body's document) is sent, not asked.
    for name, node in list(top.properties.items()):
        child = maker.reader.shape(node)
        if child.has_const and name in top.required:
            drafts.append(
                Draft(None, name, Binding(location="body", path=(name,), value=child.const))
            )
    if drafts:
        fixed = {draft.source for draft in drafts}
        kept = {n: node for n, node in top.properties.items() if n not in fixed}
        top = replace(top, properties=kept)
    prefix: tuple[str, ...] = ()
    while (wrapped := envelope(top, maker.reader)) is not None and len(prefix) < 3:
        prefix, top = (*prefix, wrapped[0]), wrapped[1]
    # A property the schema requires is required, whether or not the description marks the
    # body itself required (many leave it out): an action always sends its body.
    required = True
    if not top.properties and drafts:
        return drafts  # nothing but fixed values (a GraphQL query without arguments)
    if top.type != "object" or not top.properties:
        kind = _field_type(top, "body", maker.multipart)
        spec = maker.field(top, "body", "body", body.required, "The request body", body.description)
        if kind is not FieldType.DICT:
            spec = spec.model_copy(update={"type": FieldType.JSON if not spec.list else spec.type})
        return [Draft(spec, "body", Binding(location="body", path=prefix, field=spec.key))]
    depth = flatten if _count_leaves(top, maker.reader, flatten) <= MAX_FIELDS else 0
    _flatten(maker, body, top, prefix, (), required, depth, drafts)
    return drafts


def _count_leaves(found: Shape, reader: _Reader, flatten: int, depth: int = 0) -> int:
    count = 0
    for _, node in found.properties.items():
        child = reader.shape(node)
        if child.type == "object" and child.properties and depth < flatten and not child.recursive:
            count += _count_leaves(child, reader, flatten, depth + 1)
        else:
            count += 1
    return count


def _flatten(
    maker: FieldMaker,
    body: Body,
    found: Shape,
    path: tuple[str, ...],
    names: tuple[str, ...],
    required: bool,
    depth: int,
    drafts: list[Draft],
) -> None:
    for name, node in found.properties.items():
        child = maker.reader.shape(node)
        if child.read_only or child.deprecated:
            continue
        is_required = required and name in found.required
        here = (*names, name)
        single = child.enum if len(child.enum) == 1 else [child.const] if child.has_const else []
        if is_required and single:
            # A value every request sends the same (JSON:API's resource ``type``): not a field.
            fixed = Binding(location="body", name=here[0], path=(*path, name), value=single[0])
            drafts.append(Draft(None, ".".join(here), fixed))
            continue
        if (
            child.type == "object"
            and child.properties
            and len(names) < depth
            and not child.recursive
        ):
            _flatten(maker, body, child, (*path, name), here, is_required, depth, drafts)
            continue
        key = "__".join(snake(part) for part in here)
        spec = maker.field(child, name, key, is_required, "The")
        if names and not required and spec.default is not None:
            # Inside an optional object a default is what the API assumes when the object is
            # sent without it; sent alone it would make an object nobody asked for (OpenAI's
            # web search options on every chat, a filter of type "eq" comparing nothing).
            spec = spec.model_copy(update={"default": None})
        encoding = body.encoding.get(here[0], {}) if body.content_type in (FORM, MULTIPART) else {}
        binding = Binding(
            location="body",
            name=here[0],
            path=(*path, name),
            field=spec.key,
            style=encoding.get("style") if isinstance(encoding.get("style"), str) else None,
            explode=encoding.get("explode") if isinstance(encoding.get("explode"), bool) else None,
        )
        drafts.append(Draft(spec, ".".join(here), binding))


def _json_api_data(found: Shape, reader: _Reader) -> tuple[str, Shape] | None:
    """A JSON:API document's resource (https://jsonapi.org/format/#document-top-level): its
    ``data``, beside which there are only links, meta and the resources it includes."""
    if "data" not in found.properties or not set(found.properties) <= JSON_API_MEMBERS:
        return None
    inner = reader.shape(found.properties["data"])
    if inner.type == "object" and inner.properties:
        return "data", inner
    return None


@dataclass
class Answer:
    """What an operation's answer gives: the type of action, where its result is, the output
    fields and a sample."""

    type: ActionType
    results: tuple[str, ...]
    outputs: list[OutputSpec]
    sample: dict[str, Any]
    file: bool = False  # the answer is a file, given as a data: URI


def file_answer(media_type: str) -> tuple[list[OutputSpec], dict[str, Any]]:
    """The outputs and sample of an answer that is a file of ``media_type``."""
    outputs = [
        OutputSpec(key="file", label="File", type=FieldType.FILE),
        OutputSpec(key="filename", label="File name"),
        OutputSpec(key="content_type", label="Content type"),
        OutputSpec(key="size", label="Size (bytes)", type=FieldType.INTEGER),
    ]
    extension = {"application/octet-stream": ".bin"}.get(media_type) or (
        mimetypes.guess_extension(media_type) or ""
    )
    sample = {
        "file": f"data:{media_type};name=file{extension};base64,UEsDBBQAAAAIAA==",
        "filename": f"file{extension}",
        "content_type": media_type,
        "size": 10,
    }
    return outputs, sample


def _list_property(found: Shape, reader: _Reader, one: bool) -> tuple[str, Node] | None:
    """The list in a list endpoint's answer: a property named as lists are (``data``…), or
    its only array, unless the answer is of one resource (``one``: a GET of
    ``/things/{id}``, or what an envelope held), whose only array is one of its properties
    (Twilio's ``capabilities``, JSON:API's ``included``)."""
    arrays = [
        (name, node)
        for name, node in found.properties.items()
        if reader.shape(node).type == "array"
    ]
    for wanted in LIST_NAMES:
        for name, node in arrays:
            if name == wanted:
                return name, node
    return arrays[0] if len(arrays) == 1 and not one else None


def answer(operation: Operation, reader: _Reader, results: Sequence[str] | None = None) -> Answer:
    """What ``operation`` answers; ``results`` is where the result is in the answer when the
    overlay says it (Outline's POST lists answer ``{"data": [...], "pagination": ...}``):
    the outputs and sample are then of what is there (each item, for a list)."""
    success = operation.success
    kind = ActionType.READ if operation.reads else ActionType.WRITE
    if success is not None and success.file_type:
        return Answer(kind, (), *file_answer(success.file_type), file=True)
    if success is None or success.schema is None:
        status = int(success.status) if success and success.status.isdigit() else 200
        return Answer(
            kind,
            (),
            [OutputSpec(key="status", label="Status", type=FieldType.INTEGER)],
            {"status": status},
        )
    found = reader.shape(success.schema)
    example = success.example if success.has_example else None
    item: Shape = found
    item_node: Node | None = success.schema
    if results is not None:
        for part in results:
            node = item.properties.get(part)
            if node is None:
                break
            item_node, item = node, reader.shape(node)
            example = example.get(part) if isinstance(example, dict) else None
        if item.type == "array" and item.items is not None:
            item_node, item = item.items, reader.shape(item.items)
            example = example[0] if isinstance(example, list) and example else None
        return _answer(kind, tuple(results), item, item_node, example, reader)
    at: tuple[str, ...] = ()
    # Envelopes first ({"data": {"issues": {...}}}: GraphQL answers are wrapped), and a
    # JSON:API document's resource.
    while (wrapped := envelope(found, reader) or _json_api_data(found, reader)) is not None and len(
        at
    ) < 3:
        name = wrapped[0]
        at = (*at, name)
        item_node, found = found.properties[name], wrapped[1]
        example = example.get(name) if isinstance(example, dict) else None
    item = found
    one = operation.path.endswith("}") or bool(at)
    if found.type == "array" and found.items is not None:
        kind = ActionType.SEARCH if operation.reads else kind
        item_node, item = found.items, reader.shape(found.items)
        example = example[0] if isinstance(example, list) and example else None
    elif operation.reads and (listed := _list_property(found, reader, one)) is not None:
        kind = ActionType.SEARCH
        at = (*at, listed[0])
        array = reader.shape(listed[1])
        item_node = array.items
        item = reader.shape(array.items) if array.items is not None else Shape(type="json")
        listed_example = example.get(listed[0]) if isinstance(example, dict) else None
        example = listed_example[0] if isinstance(listed_example, list) and listed_example else None
    return _answer(kind, at, item, item_node, example, reader)


def _answer(
    kind: ActionType,
    results: tuple[str, ...],
    item: Shape,
    item_node: Node | None,
    example: Any,
    reader: _Reader,
) -> Answer:
    """The outputs and sample of one result (``item``), the description's example over it."""
    outputs: list[OutputSpec] = []
    _outputs(item, reader, (), outputs)
    made = sample_of(item_node, reader=reader) if item_node is not None else None
    sample = _overlaid(made, example) if isinstance(made, dict) else example
    if not isinstance(sample, dict):
        sample = {"value": sample} if sample is not None else None
    if not outputs:
        outputs = [
            OutputSpec(key=key, label=title(key)) for key in list(sample or {})[:MAX_OUTPUTS]
        ]
    return Answer(kind, results, outputs, sample or {})


def _overlaid(made: dict[str, Any], example: Any) -> dict[str, Any]:
    """A sample made from the schema, with the description's own example over it: the
    example's values, and a value for every property it does not show."""
    if not isinstance(example, dict):
        return made
    merged = dict(made)
    for key, value in example.items():
        below = merged.get(key)
        merged[key] = _overlaid(below, value) if isinstance(below, dict) else value
    return merged


def _outputs(
    found: Shape, reader: _Reader, names: tuple[str, ...], outputs: list[OutputSpec]
) -> None:
    for name, node in found.properties.items():
        if len(outputs) >= MAX_OUTPUTS:
            return
        child = reader.shape(node)
        if child.write_only:
            continue
        here = (*names, name)
        if (
            child.type == "object"
            and child.properties
            and len(names) < OUTPUT_DEPTH - 1
            and not child.recursive
        ):
            _outputs(child, reader, here, outputs)
            continue
        kind = _TYPES.get(
            child.type, FieldType.DATETIME if child.format == "date-time" else FieldType.STRING
        )
        label = " ".join(
            title(part) if i == 0 else title(part).lower() for i, part in enumerate(here)
        )
        outputs.append(OutputSpec(key="__".join(here), label=label, type=kind))
