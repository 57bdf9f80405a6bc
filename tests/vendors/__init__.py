"""Vendor APIs emulated at the HTTP level, each checked against the vendor's own description.

The descriptions live outside the repository, in the workspace's shared references
(``../shared/reference/vendors`` beside the checkout); ``ACTIONRUNS_VENDOR_SPECS`` points
elsewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_vendor_spec(name: str) -> Any:
    """A vendor's API description; without it the tests that need it skip (fail under CI)."""
    candidates = [
        Path(os.environ["ACTIONRUNS_VENDOR_SPECS"])
        if "ACTIONRUNS_VENDOR_SPECS" in os.environ
        else None,
        REPO.parent / "shared" / "reference" / "vendors",
        Path("/work/shared/reference/vendors"),
    ]
    for folder in candidates:
        if folder is not None and (folder / name).is_file():
            return json.loads((folder / name).read_text())
    message = f"the vendor description {name} is not in ../shared/reference/vendors"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI needs it", pytrace=False)
    pytest.skip(message, allow_module_level=True)
