"""JSON log lines are written whatever an event holds: orjson refuses some values."""

from __future__ import annotations

import json

import pytest
import structlog

from actionruns.logs import configure_logging


@pytest.mark.parametrize(
    "fields",
    [
        {"count": 2**70 + 1},  # past 64 bits
        {"by_code": {404: 2}},  # a key that is not a string
        {"when": object()},  # no JSON form: written as text
        {"plain": "text", "number": 1.5},
    ],
)
def test_every_event_becomes_one_json_line(
    fields: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(json=True)
    structlog.get_logger("test").info("something_happened", **fields)
    [line] = capsys.readouterr().err.splitlines()
    written = json.loads(line)
    assert written["event"] == "something_happened"
    for key, value in fields.items():
        assert key in written
        if isinstance(value, (int, float, str)):
            assert written[key] == value
