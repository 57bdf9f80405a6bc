"""JSON documents in the shapes of the Partner API (apps, actions, fields, authentications)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import Request

from actionruns.api.icons import app_color
from actionruns.engine.documents import iso
from actionruns.sdk.app import Action, App
from actionruns.sdk.auth import AuthType
from actionruns.sdk.categories import slugs
from actionruns.sdk.fields import Choice, InputField, OutputField
from actionruns.sdk.registry import action_id, app_id
from actionruns.store import AuthenticationRecord

ICON_SIZES = (16, 32, 64, 128)


def page(
    request: Request, items: Sequence[Any], total: int, limit: int, offset: int
) -> dict[str, Any]:
    """The ``links``/``meta``/``data`` envelope of a paginated list."""

    def link(new_offset: int) -> str:
        return str(request.url.include_query_params(limit=limit, offset=new_offset))

    return {
        "links": page_links(
            link(offset + limit) if offset + limit < total else None,
            link(max(0, offset - limit)) if offset > 0 else None,
        ),
        "meta": {"count": total, "limit": limit, "offset": offset},
        "data": list(items),
    }


def page_links(next_url: str | None, previous_url: str | None) -> dict[str, str | None]:
    """``previous`` as Zapier's responses name it, ``prev`` as its reference does."""
    return {"next": next_url, "previous": previous_url, "prev": previous_url}


def as_text(value: Any) -> str:
    """A value in a field Zapier types as a string: JSON's spelling for booleans, numbers and
    structures (``"true"``, never Python's ``"True"``)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def choice_document(choice: Choice) -> dict[str, Any]:
    return {"id": choice.value, "type": "choice", "label": choice.label, "value": choice.value}


def input_field_document(spec: InputField) -> dict[str, Any]:
    document: dict[str, Any] = {
        "type": "input_field",
        "id": spec.key,
        "title": spec.label,
        "is_required": spec.required,
        "value_type": spec.value_type,
        "default_value": "" if spec.default is None else as_text(spec.default),
        "depends_on": list(spec.depends_on),
        "invalidates_input_fields": spec.alters_dynamic_fields,
        "placeholder": spec.placeholder,
        "description": spec.help_text,
        "items": {"type": spec.type.value} if spec.list else {},
        "has_dynamic_choices": spec.dynamic_choices is not None,
        "choices": [choice_document(choice) for choice in spec.choices],
    }
    if spec.format is not None:
        document["format"] = spec.format
    return document


def auth_field_document(spec: InputField) -> dict[str, Any]:
    """A connection's field, with the Connect page's "Where do I find this?"."""
    return {
        **input_field_document(spec),
        "help_url": spec.help_url or None,
        "help_steps": list(spec.help_steps),
    }


def auth_scope_documents(app: App) -> list[dict[str, Any]]:
    config = app.auth.oauth2
    if config is None:
        return []
    return [
        {"scope": scope, "description": config.scope_descriptions.get(scope)}
        for scope in config.scopes
    ]


def output_field_document(spec: OutputField) -> dict[str, Any]:
    document: dict[str, Any] = {
        "type": "output_field",
        # Zapier names a nested field by its path joined with "__" (commit__message).
        "id": spec.key.replace(".", "__"),
        "title": spec.label,
        "value_type": spec.type.value,
    }
    if spec.sample is not None:
        document["sample"] = as_text(spec.sample)
    return document


def app_document(request: Request, app: App) -> dict[str, Any]:
    icon = str(request.url_for("app_icon", app_key=app.key))
    images = {f"url_{size}x{size}": f"{icon}?size={size}" for size in ICON_SIZES}
    return {
        "id": app_id(app),
        "type": "app",
        "slug": app.key,
        "title": app.title,
        "description": app.description,
        "image": app.image_url or images["url_128x128"],
        "images": images,
        "hex_color": app_color(app),  # as Zapier writes it: 8bcbca
        "categories": [{"slug": category} for category in slugs(app.categories)],
        "action_types": list(app.action_types),
        # Where a connection to the app starts: the hosted Connect page, opened with a connect
        # token (?token=). Null means, as in Zapier's API, that the app needs none.
        "links": {
            "connect_new_authentication": (
                None
                if app.auth.type is AuthType.NONE
                else str(request.url_for("connect_page", app_key=app.key))
            )
        },
        "auth_type": app.auth.type.value,
        "source": app.source,  # an extension: "connector" or "openapi" (an imported description)
        "auth_fields": [auth_field_document(spec) for spec in app.auth.fields],
        "auth_scopes": auth_scope_documents(app),
    }


def action_document(app: App, action: Action) -> dict[str, Any]:
    return {
        "id": action_id(app, action),
        "key": action.key,
        "slug": f"{app.key}.{action.key}",
        "app": app_id(app),
        "type": "action",
        "action_type": action.type.value,
        "is_instant": False,
        "title": action.title,
        "description": action.description,
    }


def authentication_document(app: App | None, record: AuthenticationRecord) -> dict[str, Any]:
    return {
        "type": "authentication",
        "id": record.id,
        "app": app_id(app) if app is not None else record.app_key,
        "app_slug": record.app_key,
        "is_expired": record.is_expired,
        "title": record.title,
        "created_at": iso(record.created_at),
    }
