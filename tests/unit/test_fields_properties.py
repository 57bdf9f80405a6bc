"""Properties of input coercion and validation, for any input a client could send."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
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
