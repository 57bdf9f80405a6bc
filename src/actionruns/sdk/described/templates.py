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


_MISSING = object()


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return PLACEHOLDER.search(value) is not None
    if isinstance(value, dict):
        return any(_templated(item) for item in value.values())
    if isinstance(value, list):
        return any(_templated(item) for item in value)
    return False


def _given(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _fill(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        names = placeholders(template)
        if not names:
            return template
        whole = PLACEHOLDER.fullmatch(template)
        if whole is not None:
            value = lookup(values, whole.group(1))
            return value if _given(value) else _MISSING
        if not any(_given(lookup(values, name)) for name in names):
            return _MISSING
        return render(template, values)
    if isinstance(template, dict | list):
        pairs = list(template.items()) if isinstance(template, dict) else list(enumerate(template))
        filled = [(key, item, _fill(item, values)) for key, item in pairs]
        templated = [value for _, item, value in filled if _templated(item)]
        if templated and all(value is _MISSING for value in templated):
            return _MISSING
        kept = [(key, value) for key, _, value in filled if value is not _MISSING]
        return dict(kept) if isinstance(template, dict) else [value for _, value in kept]
    return template


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """A value made of ``values`` (an action's inputs) by an overlay's template.

    A string that is exactly one ``{name}`` takes that value, of its own type (a list stays a
    list); other strings are rendered as text. What is left empty is left out: a string
    whose every placeholder is empty, and an object or list whose every templated part is,
    so that ``[{"role": "system", "content": "{system}"}, {"role": "user", ...}]`` leaves out
    the system message when no ``system`` is given. None when nothing is left.
    """
    filled = _fill(template, values)
    return None if filled is _MISSING else filled
