"""What an app's own code printed during a run's attempt (a piece's console), kept with it.

The engine opens a log around an attempt (``logging_printed``); a runner whose code prints
(``actionruns.pieces``) adds each call's lines (``keep_printed``) with the call's secrets
already redacted. The attempt keeps the first ``MAX_PRINTED_CHARACTERS`` of them: it is
stored with the run.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

MAX_PRINTED_CHARACTERS = 16 * 1024
CUT = "[cut: more was printed than an attempt keeps]"

_log: contextvars.ContextVar[list[dict[str, str]] | None] = contextvars.ContextVar(
    "actionruns_printed", default=None
)


@contextmanager
def logging_printed() -> Iterator[list[dict[str, str]]]:
    """Collect what is printed in this context (and tasks it starts) into the list yielded:
    ``{"level", "text"}`` per line."""
    printed: list[dict[str, str]] = []
    token = _log.set(printed)
    try:
        yield printed
    finally:
        _log.reset(token)


def keep_printed(lines: Sequence[Mapping[str, Any]]) -> None:
    """Add redacted lines to the attempt's log, if one is open, up to its size."""
    kept = _log.get()
    if kept is None or (kept and kept[-1]["text"] == CUT):
        return
    room = MAX_PRINTED_CHARACTERS - sum(len(line["text"]) for line in kept)
    for line in lines:
        text = str(line.get("text", ""))
        if len(text) > room:
            if room:
                kept.append({"level": str(line.get("level", "info")), "text": text[:room]})
            kept.append({"level": "warning", "text": CUT})
            return
        kept.append({"level": str(line.get("level", "info")), "text": text})
        room -= len(text)
