"""Input and output field declarations, and the coercion of raw input values to their types."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from actionruns.sdk.context import Context

MAX_STRING_LENGTH = 262_144
MAX_LIST_ITEMS = 1_000


class FieldType(StrEnum):
    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    PASSWORD = "password"  # noqa: S105 (a field type name)
    CODE = "code"
    DICT = "dict"
    JSON = "json"
    FILE = "file"  # a URL, a data: URI or text (``sdk.files.read_file``)
    HOST = "host"  # a host name or an IP address, checked as a name would be resolved
    URL = "url"  # an http or https URL with a valid host


_VALUE_TYPES = {
    FieldType.INTEGER: "INTEGER",
    FieldType.NUMBER: "NUMBER",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.DICT: "OBJECT",
    FieldType.JSON: "OBJECT",
}
_FORMATS = {
    FieldType.TEXT: "MULTILINE",
    FieldType.PASSWORD: "PASSWORD",
    FieldType.CODE: "CODE",
    FieldType.DATETIME: "DATETIME",
    FieldType.FILE: "FILE",
}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str | None = None


@dataclass(frozen=True)
class ChoicePage:
    """One page of dynamic choices; ``has_more`` tells the client to ask for the next page."""

    choices: Sequence[Choice]
    has_more: bool = False


ChoicesFunction = Callable[["Context", Mapping[str, Any], int], Awaitable[ChoicePage]]
FieldsFunction = Callable[["Context", Mapping[str, Any]], Awaitable[Sequence["InputField"]]]


@dataclass(frozen=True)
class InputField:
    key: str
    label: str
    type: FieldType = FieldType.STRING
    required: bool = False
    default: Any = None
    help_text: str = ""
    placeholder: str = ""
    choices: Sequence[Choice] = ()
    dynamic_choices: ChoicesFunction | None = None
    depends_on: Sequence[str] = ()
    list: bool = False
    alters_dynamic_fields: bool = False
    secret: bool = False
    # Where an end user finds the value (a credential, mostly): the Connect page's "Where do
    # I find this?", a page of the app's (https) and the steps to take there.
    help_url: str = ""
    help_steps: Sequence[str] = ()

    @property
    def is_secret(self) -> bool:
        return self.secret or self.type is FieldType.PASSWORD

    @property
    def value_type(self) -> str:
        if self.list:
            return "ARRAY"
        return _VALUE_TYPES.get(self.type, "STRING")

    @property
    def format(self) -> str | None:
        if self.choices or self.dynamic_choices:
            return "SELECT"
        return _FORMATS.get(self.type)


@dataclass(frozen=True)
class DynamicFields:
    """A set of fields computed at run time from the authentication and current inputs."""

    key: str
    resolve: FieldsFunction
    depends_on: Sequence[str] = ()


@dataclass(frozen=True)
class OutputField:
    key: str
    label: str
    type: FieldType = FieldType.STRING
    sample: Any = None


def sample_value(sample: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    """Whether a sample shows the output field ``key``, and its value there: a nested field's
    key is its path joined with ``__`` (``owner__login``), as in Zapier's output fields."""
    if key in sample:
        return True, sample[key]
    node: Any = sample
    for part in key.split("__"):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


@dataclass
class FieldErrors(Exception):
    """Validation failures keyed by field key."""

    errors: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(f"{key}: {message}" for key, message in self.errors.items())


class CoercionError(ValueError):
    pass


LONE_SURROGATE = "must be valid Unicode text (it holds a lone surrogate)"


def unsendable(text: str) -> str | None:
    """Why ``text`` cannot be written as UTF-8 (every response, every database), or None: a
    lone surrogate, which JSON's \\ud800 escapes can carry in."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return LONE_SURROGATE
    return None


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be a text column's value, or None: PostgreSQL's text holds no NUL
    character (JSON can, as an escape), and nothing holds a lone surrogate."""
    if "\x00" in text:
        return "must not contain NUL characters"
    return unsendable(text)


_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off", ""}


def _coerce_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise CoercionError("must be a finite number or text")
        return str(value)
    if not isinstance(value, str):
        raise CoercionError("must be text")
    if len(value) > MAX_STRING_LENGTH:
        raise CoercionError(f"must be at most {MAX_STRING_LENGTH} characters")
    problem = unsendable(value)
    if problem is not None:
        raise CoercionError(problem)
    return value


_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?", re.IGNORECASE)


def _coerce_host(value: Any) -> str:
    """A host name (international ones as IDNA encodes them) or an IP address, as given."""
    text = _coerce_string(value).strip()
    host = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        name = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        name = ""  # an empty label, one longer than 63, or characters IDNA refuses
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(part) for part in name.split(".")):
        raise CoercionError("must be a host name or an IP address")
    return host


def _coerce_url(value: Any) -> str:
    text = _coerce_string(value).strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises for a port out of range)
        _coerce_host(parts.hostname or "")
    except ValueError:  # CoercionError included
        raise CoercionError("must be an http or https URL with a valid host") from None
    if parts.scheme not in ("http", "https"):
        raise CoercionError("must be an http or https URL with a valid host")
    return text


def _coerce_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise CoercionError("must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= 30:
            try:
                return int(text)
            except ValueError:
                pass
    raise CoercionError("must be an integer")


def _coerce_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise CoercionError("must be a number")
    if isinstance(value, int):
        return value
    number: float | None = None
    if isinstance(value, float):
        number = value
    elif isinstance(value, str) and len(value.strip()) <= 50:
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise CoercionError("must be a finite number")
    return number


def _coerce_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise CoercionError("must be true or false")


def _coerce_datetime(value: Any) -> str:
    if not isinstance(value, str):
        raise CoercionError("must be an ISO 8601 date and time")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CoercionError("must be an ISO 8601 date and time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


def _coerce_dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CoercionError("must be an object of keys and values")
    return {str(key): item for key, item in value.items()}


def _coerce_json(value: Any) -> Any:
    return value


_COERCERS: dict[FieldType, Callable[[Any], Any]] = {
    FieldType.STRING: _coerce_string,
    FieldType.TEXT: _coerce_string,
    FieldType.PASSWORD: _coerce_string,
    FieldType.CODE: _coerce_string,
    FieldType.FILE: _coerce_string,
    FieldType.INTEGER: _coerce_integer,
    FieldType.NUMBER: _coerce_number,
    FieldType.BOOLEAN: _coerce_boolean,
    FieldType.DATETIME: _coerce_datetime,
    FieldType.DICT: _coerce_dict,
    FieldType.JSON: _coerce_json,
    FieldType.HOST: _coerce_host,
    FieldType.URL: _coerce_url,
}


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _as_choice(value: Any) -> str:
    """A coerced value as a choice's value is written: JSON's ``true``, not Python's ``True``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def coerce_value(spec: InputField, value: Any) -> Any:
    """Coerce one raw value to the field's type; raises ``CoercionError`` with a reason."""
    coerce = _COERCERS[spec.type]
    if spec.list:
        items = value if isinstance(value, list) else [value]
        if len(items) > MAX_LIST_ITEMS:
            raise CoercionError(f"must have at most {MAX_LIST_ITEMS} items")
        coerced = [coerce(item) for item in items if not _is_blank(item)]
        allowed = {choice.value for choice in spec.choices}
        if allowed and any(_as_choice(item) not in allowed for item in coerced):
            raise CoercionError(f"must be among {sorted(allowed)}")
        return coerced
    result = coerce(value)
    if spec.choices and _as_choice(result) not in {choice.value for choice in spec.choices}:
        raise CoercionError(f"must be one of {[choice.value for choice in spec.choices]}")
    return result


def validate_inputs(
    fields: Sequence[InputField], inputs: Mapping[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """Coerce ``inputs`` against ``fields``: defaults filled, unknown keys kept as given.

    Raises ``FieldErrors`` naming every failing field. With ``partial``, missing required
    fields are allowed (used while a form is still being filled in).
    """
    errors: dict[str, str] = {}
    result: dict[str, Any] = {}
    known = {spec.key for spec in fields}
    for spec in fields:
        raw = inputs.get(spec.key)
        if _is_blank(raw):
            if spec.default is not None:
                raw = spec.default
            elif spec.required and not partial:
                errors[spec.key] = "is required"
                continue
            else:
                continue
        try:
            result[spec.key] = coerce_value(spec, raw)
        except CoercionError as exc:
            errors[spec.key] = str(exc)
    if errors:
        raise FieldErrors(errors)
    for key, value in inputs.items():
        if key not in known:
            result[key] = value
    return result
