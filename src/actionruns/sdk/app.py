"""App and action declarations: what a connector module exports."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from actionruns.sdk.auth import Auth
from actionruns.sdk.context import Context
from actionruns.sdk.fields import DynamicFields, InputField, OutputField
from actionruns.sdk.limits import Limits

PerformResult = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
PerformFunction = Callable[[Context, Mapping[str, Any]], Awaitable[PerformResult]]
TestFunction = Callable[[Context], Awaitable[str | None]]
"""A connection test: raises on bad credentials, may return a label for the account."""


def normalize_results(result: PerformResult) -> list[dict[str, Any]]:
    """What ``perform`` returned as the run's list of result objects."""
    if result is None:
        return []
    if isinstance(result, Mapping):
        return [dict(result)]
    if isinstance(result, Sequence) and not isinstance(result, str | bytes):
        return [dict(item) if isinstance(item, Mapping) else {"value": item} for item in result]
    return [{"value": result}]


KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# The colour of an app that names none (a neutral grey): the icon route gives it its brand's.
DEFAULT_HEX_COLOR = "#4a5568"


class ActionType(StrEnum):
    READ = "READ"
    WRITE = "WRITE"
    SEARCH = "SEARCH"
    SEARCH_OR_WRITE = "SEARCH_OR_WRITE"


@dataclass(frozen=True)
class Action:
    key: str
    title: str
    description: str
    perform: PerformFunction
    type: ActionType = ActionType.WRITE
    inputs: Sequence[InputField | DynamicFields] = ()
    outputs: Sequence[OutputField] = ()
    sample: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        if not KEY_PATTERN.match(self.key):
            raise ValueError(f"action key {self.key!r} must be snake_case")

    @property
    def static_inputs(self) -> list[InputField]:
        return [item for item in self.inputs if isinstance(item, InputField)]

    @property
    def has_dynamic_inputs(self) -> bool:
        return any(isinstance(item, DynamicFields) for item in self.inputs)

    async def input_fields(
        self, ctx: Context | None, inputs: Mapping[str, Any]
    ) -> list[InputField]:
        """The action's fields for these inputs; dynamic sets need a context to be computed."""
        fields: list[InputField] = []
        for item in self.inputs:
            if isinstance(item, InputField):
                fields.append(item)
            elif ctx is not None:
                fields.extend(await item.resolve(ctx, inputs))
        return fields


@dataclass(frozen=True)
class App:
    key: str
    title: str
    description: str
    auth: Auth
    actions: Sequence[Action]
    categories: Sequence[str] = ()
    test: TestFunction | None = None
    limits: Limits | None = None
    image_url: str | None = None
    hex_color: str = DEFAULT_HEX_COLOR
    # The app's own icon as a data: URI (sdk.images checks it), before any brand's mark.
    icon: str | None = None
    # Where the app comes from: "connector" (Python code), "openapi" (an imported description).
    source: str = "connector"
    # The app's recorded fixtures (``sdk.fixtures``), when not beside the module of its actions.
    fixtures: Path | None = None

    def __post_init__(self) -> None:
        if not KEY_PATTERN.match(self.key):
            raise ValueError(f"app key {self.key!r} must be snake_case")
        keys = [action.key for action in self.actions]
        if len(keys) != len(set(keys)):
            raise ValueError(f"app {self.key!r} declares an action key twice")

    @cached_property
    def action_types(self) -> tuple[str, ...]:
        """The types of its actions, sorted: listing apps reads them on every request, and
        an imported API has hundreds of actions."""
        return tuple(sorted({action.type.value for action in self.actions}))

    def action(self, key: str) -> Action | None:
        return next((action for action in self.actions if action.key == key), None)
