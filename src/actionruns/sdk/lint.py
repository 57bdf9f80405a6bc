"""Checks an app definition for what users of the catalogue rely on.

Every action needs a title, a description, help text on its fields, output fields and a
sample; an app with credentials needs a connection test; references between fields
(``depends_on``) must name fields that exist; a sample must show every output field; no text
may still be a scaffold's placeholder. ``actionruns connectors check`` runs these over the
catalogue, imported apps included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from actionruns.sdk.app import Action, App
from actionruns.sdk.auth import AuthType
from actionruns.sdk.categories import CATEGORIES, canonical
from actionruns.sdk.fields import DynamicFields, InputField, sample_value

# What ``actionruns connectors new`` writes where the author has something to say.
PLACEHOLDER = "TODO:"


@dataclass(frozen=True)
class Problem:
    where: str  # "app", "app.action" or "app.action.field"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _placeholders(where: str, *texts: str) -> Iterable[Problem]:
    for text in texts:
        if PLACEHOLDER in text:
            yield Problem(where, f"still says {text!r}: write it (the scaffold's placeholder)")


def _field_problems(where: str, spec: InputField, known: set[str]) -> Iterable[Problem]:
    yield from _placeholders(where, spec.label, spec.help_text)
    if not spec.label.strip():
        yield Problem(where, "has no label")
    if not spec.help_text.strip():
        yield Problem(where, "has no help text")
    if spec.help_url and not spec.help_url.startswith("https://"):
        yield Problem(where, "has a help URL that is not https://")
    for key in spec.depends_on:
        if key not in known:
            yield Problem(where, f"depends on {key!r}, which is not a field of the action")
    values = [choice.value for choice in spec.choices]
    if len(values) != len(set(values)):
        yield Problem(where, "lists a choice twice")
    if spec.choices and spec.dynamic_choices is not None:
        yield Problem(where, "has both static and dynamic choices")


def _action_problems(app: App, action: Action) -> Iterable[Problem]:
    where = f"{app.key}.{action.key}"
    yield from _placeholders(where, action.title, action.description)
    if not action.title.strip():
        yield Problem(where, "has no title")
    if len(action.description.strip()) < 10:
        yield Problem(where, "needs a description that says what it does")
    known = {spec.key for spec in action.static_inputs}
    keys = [spec.key for spec in action.static_inputs]
    if len(keys) != len(known):
        yield Problem(where, "declares an input field key twice")
    for item in action.inputs:
        if isinstance(item, DynamicFields):
            for key in item.depends_on:
                if key not in known:
                    yield Problem(f"{where}.{item.key}", f"depends on unknown field {key!r}")
        else:
            yield from _field_problems(f"{where}.{item.key}", item, known)
    if not action.outputs:
        yield Problem(where, "declares no output fields")
    if not action.sample:
        yield Problem(where, "has no sample result")
    for output in action.outputs:
        yield from _placeholders(f"{where}.{output.key}", output.label)
        if not sample_value(action.sample, output.key)[0]:
            yield Problem(f"{where}.{output.key}", "is an output field missing from the sample")


def lint_app(app: App) -> list[Problem]:
    problems: list[Problem] = list(_placeholders(app.key, app.title, app.description))
    if not app.title.strip():
        problems.append(Problem(app.key, "has no title"))
    if len(app.description.strip()) < 10:
        problems.append(Problem(app.key, "needs a description"))
    if not app.categories:
        problems.append(Problem(app.key, "has no category"))
    for word in app.categories:
        if canonical(word) is None:
            problems.append(
                Problem(app.key, f"category {word!r} is not one of {', '.join(CATEGORIES)}")
            )
    if not app.actions:
        problems.append(Problem(app.key, "has no actions"))
    if app.auth.type is not AuthType.NONE and app.test is None:
        problems.append(Problem(app.key, "has no connection test (credentials are never checked)"))
    for spec in app.auth.fields:
        problems.extend(_field_problems(f"{app.key} (auth).{spec.key}", spec, set()))
    for action in app.actions:
        problems.extend(_action_problems(app, action))
    return problems
