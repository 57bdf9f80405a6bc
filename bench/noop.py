"""A connector whose action does nothing: what is left to measure is the service itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actionruns.sdk import Action, App, Auth, Context


async def _noop(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {"ok": True}


app = App(
    key="bench",
    title="Benchmark",
    description="Actions for measuring the service.",
    auth=Auth.none(),
    actions=[Action("noop", "No-op", "Returns at once.", _noop)],
)
