"""Apps described as data (an imported API description), run by one generic connector."""

from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.described.runtime import build_app

__all__ = ["AppManifest", "build_app"]
