"""Properties of input coercion and validation, for any input a client could send."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actionruns.sdk.fields import (
    MAX_LIST_ITEMS,
    Choice,
    CoercionError,
    FieldErrors,
    FieldType,
    InputField,
    coerce_value,
    validate_inputs,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
field_types = st.sampled_from(list(FieldType))
fields = st.builds(
    InputField,
    key=st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
    label=st.just("A field"),
    type=field_types,
    required=st.booleans(),
    list=st.booleans(),
)


@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_integers_round_trip_through_text(number: int) -> None:
    spec = InputField("n", "N", FieldType.INTEGER)
    assert coerce_value(spec, str(number)) == number
    assert coerce_value(spec, f"  {number} ") == number


@given(st.sampled_from(["true", "TRUE", " yes", "y", "1", "on", True, 1]))
def test_true_spellings(value: Any) -> None:
    assert coerce_value(InputField("b", "B", FieldType.BOOLEAN), value) is True


@given(st.sampled_from(["false", "No", "n", "0", "off", "", False, 0]))
def test_false_spellings(value: Any) -> None:
    assert coerce_value(InputField("b", "B", FieldType.BOOLEAN), value) is False


@given(json_values)
def test_numbers_are_finite_or_refused(value: Any) -> None:
    try:
        number = coerce_value(InputField("x", "X", FieldType.NUMBER), value)
    except CoercionError:
        return
    assert isinstance(number, int | float) and not isinstance(number, bool)
    assert math.isfinite(number)


@given(fields, json_values)
def test_coercion_is_idempotent(spec: InputField, value: Any) -> None:
    try:
        once = coerce_value(spec, value)
    except CoercionError:
        return
    assert coerce_value(spec, once) == once


@given(st.lists(fields, max_size=6, unique_by=lambda spec: spec.key), json_values)
def test_validation_only_ever_raises_field_errors(specs: list[InputField], raw: Any) -> None:
    inputs = raw if isinstance(raw, dict) else {"value": raw}
    try:
        result = validate_inputs(specs, inputs)
    except FieldErrors as exc:
        assert set(exc.errors) <= {spec.key for spec in specs}
        return
    for spec in specs:
        if spec.required:
            assert spec.key in result


@given(st.lists(fields, min_size=1, max_size=6, unique_by=lambda spec: spec.key))
def test_every_missing_required_field_is_reported(specs: list[InputField]) -> None:
    required = {spec.key for spec in specs if spec.required and spec.default is None}
    if not required:
        assert validate_inputs(specs, {}) == {}
        return
    with pytest.raises(FieldErrors) as caught:
        validate_inputs(specs, {})
    assert set(caught.value.errors) == required


@given(st.integers(min_value=0, max_value=MAX_LIST_ITEMS + 50))
def test_lists_are_capped(size: int) -> None:
    spec = InputField("to", "To", list=True)
    values = [f"a{i}@example.com" for i in range(size)]
    if size > MAX_LIST_ITEMS:
        with pytest.raises(CoercionError):
            coerce_value(spec, values)
    else:
        assert coerce_value(spec, values) == values


@given(st.text(max_size=5))
def test_choices_are_enforced(value: str) -> None:
    spec = InputField("size", "Size", choices=(Choice("s"), Choice("m")))
    if value in ("s", "m"):
        assert coerce_value(spec, value) == value
    else:
        with pytest.raises(CoercionError):
            coerce_value(spec, value)


def _respell(word: str, data: st.DataObject) -> str:
    """``word`` in random letter case, with random surrounding whitespace."""
    cased = "".join(char.upper() if data.draw(st.booleans()) else char.lower() for char in word)
    pad = st.sampled_from(["", " ", "\t", "  \n"])
    return data.draw(pad) + cased + data.draw(pad)


@given(st.sampled_from(["true", "yes", "y", "1", "on"]), st.data())
def test_true_in_any_case_and_padding(word: str, data: st.DataObject) -> None:
    spec = InputField("b", "B", FieldType.BOOLEAN)
    assert coerce_value(spec, _respell(word, data)) is True


@given(st.sampled_from(["false", "no", "n", "0", "off"]), st.data())
def test_false_in_any_case_and_padding(word: str, data: st.DataObject) -> None:
    spec = InputField("b", "B", FieldType.BOOLEAN)
    assert coerce_value(spec, _respell(word, data)) is False


@given(st.text(max_size=8) | st.integers() | st.floats() | st.none())
def test_only_those_spellings_are_booleans(value: Any) -> None:
    accepted = {"true", "yes", "y", "1", "on", "false", "no", "n", "0", "off", ""}
    spec = InputField("b", "B", FieldType.BOOLEAN)
    # Text in those spellings and the integers 0 and 1; never other numbers, not even 1.0.
    expected_ok = (isinstance(value, str) and value.strip().lower() in accepted) or (
        isinstance(value, int) and value in (0, 1)
    )
    try:
        result = coerce_value(spec, value)
    except CoercionError:
        assert not expected_ok, value
    else:
        assert expected_ok, value
        assert isinstance(result, bool)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_floats_round_trip_through_text(number: float) -> None:
    spec = InputField("x", "X", FieldType.NUMBER)
    assert coerce_value(spec, repr(number)) == number
    assert coerce_value(spec, number) == number


@given(st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e999"]))
def test_non_finite_text_is_never_a_number(text: str) -> None:
    with pytest.raises(CoercionError):
        coerce_value(InputField("x", "X", FieldType.NUMBER), text)


@given(st.integers(), st.booleans())
def test_integers_accept_integral_floats_but_not_booleans(number: int, as_float: bool) -> None:
    spec = InputField("n", "N", FieldType.INTEGER)
    with pytest.raises(CoercionError):
        coerce_value(spec, as_float)
    if abs(number) < 2**53:
        assert coerce_value(spec, float(number)) == number
    with pytest.raises(CoercionError):
        coerce_value(spec, number + 0.5 if abs(number) < 2**50 else "1.5")


fixed_offsets = st.integers(min_value=-23 * 60 + 1, max_value=23 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(st.datetimes(timezones=st.none() | fixed_offsets))
def test_datetimes_come_back_as_aware_iso_text(moment: Any) -> None:
    spec = InputField("at", "At", FieldType.DATETIME)
    text = coerce_value(spec, moment.isoformat())
    assert isinstance(text, str)
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None
    if moment.tzinfo is not None:
        assert parsed == moment


@given(
    st.lists(st.sampled_from(["s", "m", "l", "xl", ""]), max_size=8),
)
def test_every_list_item_must_be_a_choice(values: list[str]) -> None:
    spec = InputField("sizes", "Sizes", list=True, choices=(Choice("s"), Choice("m"), Choice("l")))
    if "xl" in values:
        with pytest.raises(CoercionError):
            coerce_value(spec, values)
    else:
        # Blank items are dropped; the rest keep their order.
        assert coerce_value(spec, values) == [value for value in values if value]


@settings(max_examples=50)
@given(st.lists(fields, max_size=6, unique_by=lambda spec: spec.key), st.data())
def test_partial_validation_never_reports_a_missing_field(
    specs: list[InputField], data: st.DataObject
) -> None:
    keys = [spec.key for spec in specs]
    chosen = data.draw(st.sets(st.sampled_from(keys))) if keys else set()
    inputs: dict[str, object] = {
        key: data.draw(st.sampled_from([None, "", [], {}])) for key in chosen
    }
    assert validate_inputs(specs, inputs, partial=True) == {}


@settings(max_examples=50)
@given(
    st.lists(fields, max_size=6, unique_by=lambda spec: spec.key),
    st.dictionaries(st.from_regex(r"[A-Z]{1,6}", fullmatch=True), json_values, max_size=4),
)
def test_unknown_inputs_are_kept_as_given(specs: list[InputField], unknown: dict[str, Any]) -> None:
    # Field keys are lower case, so these never collide with one.
    specs = [replace(spec, required=False) for spec in specs]
    result = validate_inputs(specs, unknown)
    assert result == unknown


@settings(max_examples=50)
@given(st.lists(fields, min_size=1, max_size=6, unique_by=lambda spec: spec.key), st.data())
def test_validation_agrees_with_coercing_each_field(
    specs: list[InputField], data: st.DataObject
) -> None:
    inputs = {spec.key: data.draw(json_values) for spec in specs}
    expected: dict[str, Any] = {}
    failing: set[str] = set()
    for spec in specs:
        raw = inputs[spec.key]
        if raw is None or raw == "" or raw == [] or raw == {}:
            if spec.required:
                failing.add(spec.key)
            continue
        try:
            expected[spec.key] = coerce_value(spec, raw)
        except CoercionError:
            failing.add(spec.key)
    if failing:
        with pytest.raises(FieldErrors) as caught:
            validate_inputs(specs, inputs)
        assert set(caught.value.errors) == failing
    else:
        assert validate_inputs(specs, inputs) == expected


@given(st.sampled_from([True, False, 0, 1, "yes", 3, "3", 2.5, "text"]))
def test_defaults_fill_blank_inputs_and_are_coerced(default: Any) -> None:
    spec = InputField("n", "N", FieldType.INTEGER, required=True, default=default)
    try:
        expected = coerce_value(spec, default)
    except CoercionError:
        with pytest.raises(FieldErrors) as caught:
            validate_inputs([spec], {})
        assert set(caught.value.errors) == {"n"}
        return
    for blank in ({}, {"n": None}, {"n": ""}):
        assert validate_inputs([spec], blank) == {"n": expected}
