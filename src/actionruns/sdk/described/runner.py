"""Operations that a manifest's hook module runs, rather than an HTTP request it plans.

An app made of an Activepieces piece is a manifest like an imported API's (its fields,
auth and texts are data, stored and listed the same way) whose operations have no request:
its hook module's ``runner(manifest)`` returns an ``OperationRunner`` that performs them,
lists their dropdowns' choices and dynamic fields, and tests a connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from actionruns.sdk.context import Context
from actionruns.sdk.described.manifest import AppManifest, FieldSpec
from actionruns.sdk.fields import ChoicePage, DynamicFields, InputField


class OperationRunner(Protocol):
    async def perform(self, ctx: Context, operation: str, inputs: Mapping[str, Any]) -> Any: ...

    async def choices(
        self, ctx: Context, operation: str, field: str, inputs: Mapping[str, Any], page: int
    ) -> ChoicePage: ...

    async def fields(
        self, ctx: Context, operation: str, field: str, inputs: Mapping[str, Any]
    ) -> Sequence[InputField]: ...

    async def test(self, ctx: Context) -> str | None: ...


class RunnerFields:
    """The fields of an operation whose choices or fields the runner lists."""

    def __init__(self, runner: OperationRunner, operation: str) -> None:
        self.runner = runner
        self.operation = operation

    def choices(self, spec: FieldSpec) -> Any:
        runner, operation = self.runner, self.operation

        async def choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
            return await runner.choices(ctx, operation, spec.key, inputs, page)

        return choices

    def expanding(self, spec: FieldSpec) -> DynamicFields:
        runner, operation = self.runner, self.operation

        async def resolve(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
            return await runner.fields(ctx, operation, spec.key, inputs)

        return DynamicFields(spec.key, resolve, depends_on=spec.depends_on)


def load_runner(hooks: Any, manifest: AppManifest) -> OperationRunner | None:
    """The hook module's runner for the operations that have no request, if any has none."""
    if all(operation.request is not None for operation in manifest.operations):
        return None
    make = getattr(hooks, "runner", None)
    if make is None:
        raise ValueError(f"{manifest.hook} defines no runner for operations without a request")
    runner: OperationRunner = make(manifest)
    return runner
