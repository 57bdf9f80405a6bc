"""The formatter's transforms, one table per kind, and every action run through the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actionruns.connectors.formatter import app, parse_number
from actionruns.sdk import HaltError
from actionruns.sdk.fields import validate_inputs
from tests.conftest import ServiceFactory

actions = {action.key: action for action in app.actions}


async def run(action: str, **inputs: Any) -> Any:
    spec = actions[action]
    fields = await spec.input_fields(None, inputs)  # static fields; options checked in perform
    values = validate_inputs(fields, inputs)
    # The formatter's actions never read their context, so none is built for them.
    result = await spec.perform(None, values)  # type: ignore[arg-type]
    assert isinstance(result, Mapping)
    return result["output"]


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"transform": "uppercase", "input": "déjà vu"}, "DÉJÀ VU"),
        ({"transform": "titlecase", "input": "ada lovelace"}, "Ada Lovelace"),
        ({"transform": "capitalize", "input": "hello world"}, "Hello world"),
        ({"transform": "trim_whitespace", "input": "  a \n  b  "}, "a b"),
        ({"transform": "replace", "input": "a-b-c", "find": "-", "replace_with": "+"}, "a+b+c"),
        ({"transform": "replace", "input": "a-b", "find": "-"}, "ab"),
        ({"transform": "split", "input": "a,b,c", "separator": ",", "segment": "last"}, "c"),
        ({"transform": "split", "input": "a,b,c", "separator": ",", "segment": "2"}, "b"),
        ({"transform": "split", "input": "a,b,c", "separator": ",", "segment": "9"}, ""),
        ({"transform": "split", "input": "a b", "segment": "all"}, ["a", "b"]),
        ({"transform": "truncate", "input": "abcdef", "max_length": 4}, "abcd"),
        (
            {"transform": "truncate", "input": "abcdef", "max_length": 4, "append_ellipsis": 1},
            "abc…",
        ),
        ({"transform": "word_count", "input": "one two  three"}, 3),
        ({"transform": "extract_email", "input": "Mail ada@example.co.uk."}, "ada@example.co.uk"),
        ({"transform": "extract_url", "input": "see (https://x.io/a?b=1)."}, "https://x.io/a?b=1"),
        ({"transform": "extract_number", "input": "Order #4521 shipped"}, "4521"),
        ({"transform": "extract_email", "input": "nobody here"}, ""),
    ],
)
async def test_text(inputs: dict[str, Any], expected: Any) -> None:
    assert await run("text", **inputs) == expected


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"transform": "format_number", "input": "1234567.891"}, "1,234,567.89"),
        ({"transform": "format_number", "input": "1234567.891", "locale": "de_DE"}, "1.234.567,89"),
        (
            {"transform": "format_number", "input": "1.234,5", "input_decimal_mark": ","},
            "1,234.50",
        ),
        ({"transform": "format_currency", "input": "$1,234.5"}, "$1,234.50"),
        (
            {
                "transform": "format_currency",
                "input": "1234.5",
                "currency": "EUR",
                "locale": "fr_FR",
            },
            "1\u202f234,50\xa0€",
        ),
        (
            {
                "transform": "format_currency",
                "input": "99",
                "currency": "JPY",
                "locale": "ja_JP",
                "decimal_places": 0,
            },
            "￥99",
        ),
        ({"transform": "round", "input": "2.675", "decimal_places": 2}, 2.68),
        ({"transform": "round", "input": "2.5", "decimal_places": 0}, 3),
    ],
)
async def test_numbers(inputs: dict[str, Any], expected: Any) -> None:
    assert await run("number", **inputs) == expected


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        (
            {"transform": "format", "input": "2026-11-25 14:30", "to_format": "%B %d, %Y"},
            "November 25, 2026",
        ),
        (
            {
                "transform": "format",
                "input": "2026-11-25T14:30:00Z",
                "to_timezone": "America/New_York",
            },
            "2026-11-25T09:30:00-05:00",
        ),
        (
            {
                "transform": "format",
                "input": "01/02/2026",
                "day_first": True,
                "to_format": "%Y-%m-%d",
            },
            "2026-02-01",
        ),
        (
            {"transform": "format", "input": "1764081000", "to_format": "iso"},
            "2025-11-25T14:30:00+00:00",
        ),
        (
            {"transform": "format", "input": "2026-11-25T14:30:00+01:00", "to_format": "unix"},
            1795613400,
        ),
        # Across the spring change in Paris, a day later is the same wall time.
        (
            {
                "transform": "shift",
                "input": "2026-03-28 12:00",
                "from_timezone": "Europe/Paris",
                "expression": "+1 day",
            },
            "2026-03-29T12:00:00+02:00",
        ),
        (
            {
                "transform": "shift",
                "input": "2026-01-31",
                "expression": "+1 month -2 hours",
                "to_format": "%Y-%m-%d %H:%M:%S",
            },
            "2026-02-27 22:00:00",
        ),
    ],
)
async def test_dates(inputs: dict[str, Any], expected: Any) -> None:
    assert await run("date", **inputs) == expected


@pytest.mark.parametrize(
    ("action", "inputs", "says"),
    [
        ("number", {"transform": "format_number", "input": "abc"}, "not a number"),
        ("number", {"transform": "format_currency", "input": "1", "currency": "XYZ"}, "ISO 4217"),
        ("number", {"transform": "format_number", "input": "1", "locale": "zz_QQ"}, "locale"),
        ("date", {"transform": "format", "input": "the day after"}, "not a date"),
        (
            "date",
            {"transform": "format", "input": "2026-01-01", "to_timezone": "Mars/Base"},
            "time zone",
        ),
        ("date", {"transform": "shift", "input": "2026-01-01", "expression": "soon"}, "shift"),
    ],
)
async def test_bad_input_halts_with_a_clear_message(
    action: str, inputs: dict[str, Any], says: str
) -> None:
    with pytest.raises(HaltError, match=says):
        await run(action, **inputs)


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False))
def test_a_formatted_number_reads_back_as_itself(value: Any) -> None:
    from babel.numbers import format_decimal

    for locale, mark in (("en_US", "."), ("de_DE", ",")):
        written = format_decimal(value, format="#,##0.00", locale=locale)
        assert parse_number(written, mark) == value


async def test_every_action_through_the_api(start_service: ServiceFactory) -> None:
    service = await start_service()
    acme = await service.new_client("acme")
    fields = await acme.post(
        "/v2/actions/formatter.text/inputs", json={"data": {"inputs": {"transform": "replace"}}}
    )
    assert fields.status_code == 200, fields.text
    listed = {field["id"]: field for field in fields.json()["data"]}
    assert listed["find"]["is_required"] is True and "separator" not in listed

    for action, inputs, expected in [
        ("text", {"transform": "split", "input": "a b c", "segment": "all"}, ["a", "b", "c"]),
        ("number", {"transform": "format_currency", "input": "5", "currency": "GBP"}, "£5.00"),
        (
            "date",
            {
                "transform": "shift",
                "input": "2026-11-25",
                "expression": "+1 week",
                "to_format": "%Y-%m-%d",
            },
            "2026-12-02",
        ),
    ]:
        result = await acme.wait(await acme.run(f"formatter.{action}", inputs))
        assert result["status"] == "success", result
        assert result["results"] == [{"output": expected}]
    missing = await acme.post(
        "/v2/action-runs",
        json={"data": {"action": "formatter.text", "inputs": {"transform": "shout"}}},
    )
    assert missing.status_code == 400
