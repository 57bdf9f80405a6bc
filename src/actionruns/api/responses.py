"""The API's JSON responses: never a failure while writing one.

Text with a lone surrogate (from an upstream, or a connector) cannot be UTF-8; such a body is
written with JSON's \\u escapes instead (ASCII), which every client reads back as it was.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse as _JSONResponse


class JSONResponse(_JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, separators=(",", ":")).encode("ascii")
