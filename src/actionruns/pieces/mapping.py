"""A piece's description (what the bridge's ``describe`` answers) as an app manifest.

Props become fields: text, number, checkbox, date, static dropdowns, JSON and objects as
they are; arrays as lists (of objects, as JSON, when their items have fields of their own);
``DROPDOWN``/``MULTI_SELECT_DROPDOWN`` as choices and ``DYNAMIC`` as fields that the runner
lists through the bridge; markdown as the action's help. Keys are snake-cased; each field
keeps the piece's own name for the run. A prop of a type that cannot be mapped leaves its
action out, with the reason in the report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from actionruns.openapi.naming import first_sentence, snake, unique
from actionruns.sdk.app import ActionType
from actionruns.sdk.auth import AuthType
from actionruns.sdk.described.manifest import (
    AppManifest,
    AuthSpec,
    ChoiceSpec,
    FieldSpec,
    OAuth2Spec,
    OperationSpec,
    PieceSpec,
    SourceSpec,
)
from actionruns.sdk.fields import FieldType

RUNTIME_MODULE = "actionruns.pieces.runtime"
# A choice's value that is not a string (a number, an object) travels as JSON after this.
JSON_CHOICE = "json:"

_FIELD_TYPES = {
    "SHORT_TEXT": FieldType.STRING,
    "LONG_TEXT": FieldType.TEXT,
    "NUMBER": FieldType.NUMBER,
    "CHECKBOX": FieldType.BOOLEAN,
    "DATE_TIME": FieldType.DATETIME,
    "SECRET_TEXT": FieldType.PASSWORD,
    "JSON": FieldType.JSON,
    "OBJECT": FieldType.DICT,
    "FILE": FieldType.FILE,
    "STATIC_DROPDOWN": FieldType.STRING,
    "STATIC_MULTI_SELECT_DROPDOWN": FieldType.STRING,
    "DROPDOWN": FieldType.STRING,
    "MULTI_SELECT_DROPDOWN": FieldType.STRING,
    "ARRAY": FieldType.STRING,
}
_LISTS = {"STATIC_MULTI_SELECT_DROPDOWN", "MULTI_SELECT_DROPDOWN", "ARRAY"}
_AUTH_TYPES = {
    "SECRET_TEXT": AuthType.API_KEY,
    "BASIC_AUTH": AuthType.BASIC,
    "CUSTOM_AUTH": AuthType.CUSTOM,
    "OAUTH2": AuthType.OAUTH2,
}
SECRET_TEXT_KEY = "secret_text"  # noqa: S105 (a field's key)


class Unmappable(ValueError):
    """A prop or auth that has no field of ours."""


def encode_choice(value: Any) -> str:
    """A choice's value as our choices carry it: strings as they are, anything else (and a
    string that would read as encoded) as JSON after ``json:``, so that it comes back whole."""
    if isinstance(value, str) and not value.startswith(JSON_CHOICE):
        return value
    return JSON_CHOICE + json.dumps(value, separators=(",", ":"))


def decode_choice(text: Any) -> Any:
    if isinstance(text, str) and text.startswith(JSON_CHOICE):
        try:
            return json.loads(text[len(JSON_CHOICE) :])
        except ValueError:
            return text
    return text


def _choices(options: Any) -> tuple[ChoiceSpec, ...]:
    listed = options if isinstance(options, list) else []
    return tuple(
        ChoiceSpec(value=encode_choice(option.get("value")), label=str(option.get("label", "")))
        for option in listed
        if isinstance(option, Mapping)
    )


def prop_field(name: str, prop: Mapping[str, Any], key: str) -> FieldSpec | None:
    """The field a prop is, or None for markdown (help, not an input)."""
    kind = str(prop.get("type", ""))
    if kind == "MARKDOWN":
        return None
    if kind not in _FIELD_TYPES and kind != "DYNAMIC":
        raise Unmappable(f"prop {name} is of type {kind or 'unknown'}")
    help_text = first_sentence(str(prop.get("description") or ""))
    field_type = _FIELD_TYPES.get(kind, FieldType.JSON)
    items = prop.get("properties")
    if kind == "ARRAY" and isinstance(items, Mapping) and items:
        # A list of objects: JSON, its items' fields said in the help.
        field_type = FieldType.JSON
        help_text = (
            (help_text + " " if help_text else "") + "A list of objects with " + ", ".join(items)
        )
    default = prop.get("defaultValue")
    choices = _choices(prop.get("options")) if kind.startswith("STATIC_") else ()
    if choices and default is not None:
        default = encode_choice(default)
    runner = {"DROPDOWN": "choices", "MULTI_SELECT_DROPDOWN": "choices", "DYNAMIC": "fields"}
    return FieldSpec(
        key=key,
        label=str(prop.get("displayName") or name),
        type=field_type,
        required=bool(prop.get("required")),
        default=default if isinstance(default, str | int | float | bool) else None,
        help_text=help_text,
        choices=choices,
        list=kind in _LISTS and field_type is not FieldType.JSON,
        secret=kind == "SECRET_TEXT",
        name=name,
        runner=runner.get(kind),
        depends_on=(),
    )


def prop_fields(props: Mapping[str, Any]) -> tuple[list[FieldSpec], list[str]]:
    """Props as fields, with the markdown among them as help text; keys snake-cased, and a
    field listed by the runner depending on its refreshers (by our keys)."""
    taken: set[str] = set()
    keys = {name: unique(snake(name), taken) for name in props}
    fields: list[FieldSpec] = []
    notes: list[str] = []
    for name, prop in props.items():
        spec = prop_field(name, prop, keys[name])
        if spec is None:
            notes.append(str(prop.get("description") or "").strip())
            continue
        refreshers = [keys[r] for r in prop.get("refreshers") or () if r in keys]
        if spec.runner is not None:
            spec = spec.model_copy(update={"depends_on": tuple(refreshers)})
        fields.append(spec)
    return fields, [note for note in notes if note]


def _auth(auth: Mapping[str, Any] | None) -> AuthSpec:
    if auth is None:
        return AuthSpec()
    kind = str(auth.get("type", ""))
    if kind not in _AUTH_TYPES:
        raise Unmappable(f"auth of type {kind or 'unknown'}")
    scheme = f"activepieces {kind}"
    label = str(auth.get("displayName") or "")
    if kind == "SECRET_TEXT":
        secret = FieldSpec(
            key=SECRET_TEXT_KEY,
            label=label or "Secret",
            type=FieldType.PASSWORD,
            required=True,
            help_text=first_sentence(str(auth.get("description") or "")),
        )
        return AuthSpec(type=AuthType.API_KEY, fields=(secret,), scheme=scheme)
    if kind == "BASIC_AUTH":
        names = [("username", FieldType.STRING), ("password", FieldType.PASSWORD)]
        fields = tuple(
            FieldSpec(
                key=name,
                label=str((auth.get(name) or {}).get("displayName") or name.title()),
                type=field_type,
                required=True,
            )
            for name, field_type in names
        )
        return AuthSpec(type=AuthType.BASIC, fields=fields, scheme=scheme)
    fields_of_props, _ = prop_fields(auth.get("props") or {})
    if kind == "CUSTOM_AUTH":
        return AuthSpec(type=AuthType.CUSTOM, fields=tuple(fields_of_props), scheme=scheme)
    oauth2 = OAuth2Spec(
        authorize_url=str(auth.get("authUrl") or ""),
        token_url=str(auth.get("tokenUrl") or ""),
        scopes=tuple(str(scope) for scope in auth.get("scope") or ()),
        pkce=bool(auth.get("pkce")),
    )
    return AuthSpec(
        type=AuthType.OAUTH2, fields=tuple(fields_of_props), oauth2=oauth2, scheme=scheme
    )


def _action_type(name: str) -> ActionType:
    first = snake(name).split("_")
    return ActionType.SEARCH if {"find", "search"} & set(first) else ActionType.WRITE


@dataclass
class Installed:
    """A piece as installed: its package, exact version, integrity and license."""

    package: str
    version: str
    integrity: str
    directory: str
    license: str = ""


@dataclass
class PieceReport:
    manifest: AppManifest
    skipped: list[tuple[str, str]] = field(default_factory=list)  # action, why
    auths: list[str] = field(default_factory=list)  # the piece's auths, by type


def _legacy_auth(actions: list[Any]) -> tuple[str, Mapping[str, Any]] | None:
    """The connection prop the oldest framework's actions take: its name and description.
    Its earliest versions describe a bare secret (Telegram's bot token) as a prop like any
    other: one that every action requires is the connection too, so that it is kept and
    redacted as one, not typed into each run's inputs."""
    for action in actions:
        for name, prop in (action.get("props") or {}).items():
            if prop.get("type") in _AUTH_TYPES and "validates" in prop:  # described as an auth
                return name, prop
    shared = [
        {name: prop for name, prop in (action.get("props") or {}).items() if _bare_secret(prop)}
        for action in actions
    ]
    names = set.intersection(*(set(props) for props in shared)) if shared else set()
    if len(names) == 1:
        name = names.pop()
        return name, shared[0][name]
    return None


def _bare_secret(prop: Mapping[str, Any]) -> bool:
    return prop.get("type") == "SECRET_TEXT" and bool(prop.get("required"))


def piece_manifest(
    key: str, description: Mapping[str, Any], installed: Installed, auth_index: int = 0
) -> PieceReport:
    """The app a piece is. ``auth_index`` picks one of several auths."""
    auths = list(description.get("auths") or [])
    if auths and not 0 <= auth_index < len(auths):
        raise Unmappable(f"the piece has {len(auths)} auths; pick one of 0 to {len(auths) - 1}")
    chosen = auths[auth_index] if auths else None
    actions = list(description.get("actions") or ())
    legacy = _legacy_auth(actions) if chosen is None else None
    auth_prop = ""
    if legacy is not None:
        auth_prop, chosen = legacy
    operations: list[OperationSpec] = []
    skipped: list[tuple[str, str]] = []
    taken: set[str] = set()
    for action in actions:
        name = str(action.get("name"))
        props = {k: v for k, v in (action.get("props") or {}).items() if k != auth_prop}
        try:
            inputs, notes = prop_fields(props)
        except Unmappable as exc:
            skipped.append((name, str(exc)))
            continue
        text = first_sentence(str(action.get("description") or ""))
        help_text = "\n\n".join([text, *notes]) if notes else text
        operations.append(
            OperationSpec(
                key=unique(snake(name), taken),
                title=str(action.get("displayName") or name),
                description=help_text or str(action.get("displayName") or name),
                type=_action_type(name),
                inputs=tuple(inputs),
                source=name,
                request=None,
            )
        )
    title = str(description.get("displayName") or key)
    digest = hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()
    manifest = AppManifest(
        key=key,
        title=title,
        description=first_sentence(str(description.get("description") or "")) or title,
        categories=tuple(str(c).replace("_", " ").title() for c in description["categories"]),
        source=SourceSpec(
            kind="activepieces",
            title=title,
            version=installed.version,
            file=installed.package,
            sha256=digest,
            license=installed.license,
        ),
        base_url="",
        auth=_auth(chosen),
        operations=tuple(operations),
        hook=RUNTIME_MODULE,
        piece=PieceSpec(
            package=installed.package,
            version=installed.version,
            integrity=installed.integrity,
            directory=installed.directory,
            license=installed.license,
            auth_index=auth_index,
            auth_type=str(chosen.get("type")) if chosen else "",
            typed_auth=bool(description.get("typedAuth")),
            auth_prop=auth_prop,
        ),
    )
    return PieceReport(manifest, skipped, [str(a.get("type")) for a in auths])
