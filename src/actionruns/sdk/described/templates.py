"""``{name}`` templates over values: labels of choices and accounts, credentials in headers.

Deliberately not ``str.format``: a template may come from an operator's overlay, and format
strings reach attributes (``{api_key.__class__}``). Here a placeholder is a name or a dotted
path into nested objects, nothing else; a missing value renders empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*)\}")


def lookup(values: Any, path: str) -> Any:
    """The value at a dotted ``path`` (``owner.login``, ``items.0.id``), or None."""
    node = values
    for part in path.split("."):
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(template: str, values: Any) -> str:
    """``template`` with each ``{path}`` replaced by its value's text."""
    return PLACEHOLDER.sub(lambda match: text_of(lookup(values, match.group(1))), template)


def placeholders(template: str) -> list[str]:
    """The paths a template reads, in order."""
    return PLACEHOLDER.findall(template)


def render_value(value: Any, values: Mapping[str, Any]) -> Any:
    """A fixed value with templates in its strings rendered; a string that is exactly one
    placeholder keeps the value's own type (a list stays a list)."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole is not None:
            return lookup(values, whole.group(1))
        return render(value, values)
    if isinstance(value, dict):
        return {key: render_value(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, values) for item in value]
    return value
