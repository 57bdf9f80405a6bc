"""Curated apps made by the OpenAPI importer from vendors' own descriptions.

Each folder here is one app: ``overlay.yaml`` (the curation), ``app.json`` (the app the
import made of the vendor's description with that overlay: ``docs/importing.md`` says how to
remake it) and ``fixtures.json`` (recorded cases, checked against the vendor's description by
the test suite). ``overlay.yaml`` also says where the vendor's description is published
(``source``). The apps are built when their entry point is first loaded, like any connector.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from actionruns.sdk import App
from actionruns.sdk.described import AppManifest, build_app

HERE = Path(__file__).parent


@cache
def curated(key: str) -> App:
    folder = HERE / key
    manifest = AppManifest.model_validate_json((folder / "app.json").read_text())
    return build_app(manifest, fixtures=folder / "fixtures.json")


def keys() -> list[str]:
    return sorted(path.parent.name for path in HERE.glob("*/app.json"))


def __getattr__(name: str) -> list[App]:
    """``actionruns.connectors.curated:apps``, the entry point of every curated app: a folder
    added here is an app installed, with nothing to declare elsewhere."""
    if name != "apps":
        raise AttributeError(name)
    return [curated(key) for key in keys()]
