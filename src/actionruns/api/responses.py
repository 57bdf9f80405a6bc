"""The API's JSON responses: never a failure while writing one.

Bodies are written by orjson (a tenth of the stdlib encoder's time for a run's document), in
the same compact form. What orjson refuses (a lone surrogate, an integer past 64 bits, a key
that is not a string) is written as before, by the stdlib: text with a lone surrogate cannot
be UTF-8, so such a body is written with JSON's \\u escapes instead (ASCII), which every
client reads back as it was.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from fastapi.responses import JSONResponse as _JSONResponse


class JSONResponse(_JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except orjson.JSONEncodeError:
            pass
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, separators=(",", ":")).encode("ascii")
