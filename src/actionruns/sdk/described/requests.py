"""Building an HTTP request from a manifest's bindings, in OpenAPI's serialization styles.

Parameters follow https://spec.openapis.org/oas/v3.1.0#style-values: path parameters are
``simple`` (or ``label``/``matrix``) and percent-encoded whole, so a value can never add a
path segment; query parameters are ``form`` (exploded unless told otherwise),
``spaceDelimited``, ``pipeDelimited`` or ``deepObject``; headers ``simple``; cookies ``form``.
Form bodies write nested objects and lists as ``key[sub]`` and ``key[0]`` (``deepObject``,
what Stripe and most form APIs read), unless an encoding says ``form``. Multipart bodies send
an object property as one JSON part, OpenAPI's default encoding for objects there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from actionruns.sdk.described.manifest import Binding, RequestSpec
from actionruns.sdk.described.templates import fill, text_of
from actionruns.sdk.errors import HaltError

# Characters a path parameter may keep as they are (RFC 3986 unreserved, and the ones
# OpenAPI's ``label`` and ``matrix`` styles put between values).
_UNRESERVED = "-._~"

Pairs = list[tuple[str, str]]


@dataclass
class BuiltRequest:
    """What to send: the path after the base URL, and the pieces httpx takes."""

    method: str
    path: str
    params: Pairs = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    json: Any = None
    form: Pairs | None = None
    multipart: list[tuple[str, str]] | None = None
    files: list[tuple[str, Any]] | None = None
    has_json: bool = False


def _scalar(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return text_of(value)


def _items(value: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    return ((str(key), _scalar(item)) for key, item in value.items() if item is not None)


def _joined(value: Any, explode: bool, separator: str = ",") -> str:
    """``simple``/``form`` style text of a value when it fits in one parameter."""
    if isinstance(value, list):
        return separator.join(_scalar(item) for item in value)
    if isinstance(value, dict):
        join = "=" if explode else separator
        return separator.join(f"{key}{join}{item}" for key, item in _items(value))
    return _scalar(value)


def path_value(binding: Binding, value: Any) -> str:
    """A path parameter, percent-encoded: ``/`` and ``..`` in a value stay inside it."""
    style = binding.style or "simple"
    explode = bool(binding.explode)

    def encode(text: str) -> str:
        return quote(text, safe=_UNRESERVED + ",=")

    if style == "label":
        separator = "." if explode else ","
        return "." + encode(_joined(value, explode, separator))
    if style == "matrix":
        name = binding.name
        if isinstance(value, list) and explode:
            return "".join(f";{name}={encode(_scalar(item))}" for item in value)
        if isinstance(value, dict) and explode:
            return "".join(f";{key}={encode(item)}" for key, item in _items(value))
        return f";{name}={encode(_joined(value, False))}"
    text = _joined(value, explode)
    if text in {".", ".."}:  # a dot segment would move the path up, encoded or not
        raise HaltError(f"{binding.name} cannot be {text!r}.")
    return encode(text)


def deep_pairs(name: str, value: Any) -> Pairs:
    """``name[key]=value`` for objects and ``name[0]=value`` for lists, all the way down."""
    if isinstance(value, dict):
        return [
            pair
            for key, item in value.items()
            if item is not None
            for pair in deep_pairs(f"{name}[{key}]", item)
        ]
    if isinstance(value, list):
        return [
            pair
            for index, item in enumerate(value)
            for pair in deep_pairs(f"{name}[{index}]", item)
        ]
    return [(name, _scalar(value))]


def query_pairs(binding: Binding, value: Any) -> Pairs:
    name = binding.name
    style = binding.style or "form"
    explode = True if binding.explode is None else binding.explode
    if style == "deepObject":
        return deep_pairs(name, value)
    if isinstance(value, list):
        if style == "spaceDelimited":
            return [(name, " ".join(_scalar(item) for item in value))]
        if style == "pipeDelimited":
            return [(name, "|".join(_scalar(item) for item in value))]
        if explode:
            return [(name, _scalar(item)) for item in value]
        return [(name, _joined(value, False))]
    if isinstance(value, dict):
        if explode:
            return list(_items(value))
        return [(name, _joined(value, False))]
    return [(name, _scalar(value))]


def form_pairs(binding: Binding, name: str, value: Any) -> Pairs:
    """A form body's property: exploded lists repeat the name; objects go ``deepObject``."""
    if binding.style == "form" and not isinstance(value, dict):
        return query_pairs(binding.model_copy(update={"name": name}), value)
    if isinstance(value, list) and all(not isinstance(item, dict | list) for item in value):
        if binding.explode is False:
            return [(name, _joined(value, False))]
        return [(name, _scalar(item)) for item in value]
    return deep_pairs(name, value)


def _place(body: dict[str, Any], path: Sequence[str], value: Any) -> dict[str, Any] | Any:
    """Put ``value`` at ``path`` in ``body`` (made of nested dicts); an empty path is the whole
    body."""
    if not path:
        return value
    node = body
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value
    return body


def value_of(binding: Binding, inputs: Mapping[str, Any], credentials: Mapping[str, Any]) -> Any:
    if binding.field is not None:
        return inputs.get(binding.field)
    if binding.credential is not None:
        return credentials.get(binding.credential)
    if binding.template is not None:
        return fill(binding.template, inputs)
    return binding.value


def build_request(
    spec: RequestSpec,
    inputs: Mapping[str, Any],
    credentials: Mapping[str, Any],
    files: Mapping[str, tuple[str, bytes, str]] | None = None,
) -> BuiltRequest:
    """The request ``spec`` makes of these (validated) inputs.

    ``files`` holds the contents of file fields already read, by field key.
    """
    built = BuiltRequest(spec.method, spec.path, headers=dict(spec.headers))
    body: Any = {}
    body_values: list[tuple[Binding, Any]] = []
    path_parts: dict[str, str] = {}
    for binding in spec.bindings:
        value = value_of(binding, inputs, credentials)
        if value is None:
            continue
        location = binding.location
        if location == "path":
            path_parts[binding.name] = path_value(binding, value)
        elif location == "query":
            built.params.extend(query_pairs(binding, value))
        elif location == "header":
            built.headers[binding.name] = _joined(value, bool(binding.explode))
        elif location == "cookie":
            built.cookies[binding.name] = _joined(value, bool(binding.explode))
        else:
            body_values.append((binding, value))
            body = _place(body, binding.path, value)
    missing = [b.name for b in spec.bindings if b.location == "path" and b.name not in path_parts]
    if missing:
        raise HaltError(f"The request needs a value for {', '.join(missing)}.")
    built.path = _fill_path(spec.path, path_parts)
    if spec.body == "json" and (body_values or spec.empty_body):
        built.json, built.has_json = body, True
    elif spec.body == "form":
        built.form = [
            pair
            for binding, value in body_values
            for pair in form_pairs(binding, _form_name(binding), value)
        ]
    elif spec.body == "multipart":
        built.multipart, built.files = [], []
        as_json: set[str] = set()
        for binding, value in body_values:
            name = _form_name(binding)
            if binding.field is not None and files and binding.field in files:
                built.files.append((name, files[binding.field]))
            elif binding.style is None and binding.path and isinstance(body[binding.path[0]], dict):
                # OpenAPI's default encoding of an object in multipart is JSON: one part,
                # the whole object (Box's upload attributes), unless an encoding says a style.
                top = binding.path[0]
                if top not in as_json:
                    as_json.add(top)
                    built.multipart.append((top, json.dumps(body[top], ensure_ascii=False)))
            else:
                built.multipart.extend(form_pairs(binding, name, value))
    return built


def _form_name(binding: Binding) -> str:
    """A form field's name: its top-level property, then ``[key]`` for each level below."""
    if not binding.path:
        return binding.name
    first, *rest = binding.path
    return first + "".join(f"[{part}]" for part in rest)


def _fill_path(template: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template
