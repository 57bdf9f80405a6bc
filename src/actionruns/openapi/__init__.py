"""The OpenAPI importer: an API description (and an overlay) made into an app manifest."""

from actionruns.openapi.errors import ImportFailed
from actionruns.openapi.importer import Report, import_description
from actionruns.openapi.overlay import Overlay, load_overlay

__all__ = ["ImportFailed", "Overlay", "Report", "import_description", "load_overlay"]
