"""A third-party connector package, as a partner would ship it (see ../README.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actionruns.sdk import Action, App, Auth, Context, InputField, OutputField


async def _greet(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {"greeting": f"Hello, {inputs['name']}!"}


app = App(
    key="acme_example",
    title="Acme example",
    description="A connector shipped in its own package.",
    auth=Auth.none(),
    categories=("developer-tools",),
    actions=[
        Action(
            "greet",
            "Greet",
            "Returns a greeting for a name.",
            _greet,
            inputs=[InputField("name", "Name", required=True, help_text="Who to greet.")],
            outputs=[OutputField("greeting", "Greeting", sample="Hello, Ada!")],
            sample={"greeting": "Hello, Ada!"},
        )
    ],
)
