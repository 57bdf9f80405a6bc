"""Formatter: text, number and date transforms that need no account, like Zapier's Formatter.

Numbers and currencies are formatted with Babel (CLDR locale data), dates parsed with
dateutil and converted with the IANA time zone database (zoneinfo).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Choice,
    Context,
    DynamicFields,
    FieldType,
    HaltError,
    InputField,
    OutputField,
)
from actionruns.sdk.drivers import driver

with driver("babel", extra="connectors-format"):
    from babel import Locale, UnknownLocaleError
    from babel.numbers import format_currency, format_decimal, is_currency
with driver("python-dateutil", extra="connectors-format"):
    from dateutil import parser as date_parser
    from dateutil.relativedelta import relativedelta

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")
SHIFT = re.compile(r"([+-]?\s*\d+)\s*(year|month|week|day|hour|minute|second)s?\b", re.IGNORECASE)
DATE_FORMATS = {
    "iso": "ISO 8601 (2026-11-25T14:30:00+01:00)",
    "%Y-%m-%d": "2026-11-25",
    "%m/%d/%Y": "11/25/2026",
    "%d/%m/%Y": "25/11/2026",
    "%d.%m.%Y": "25.11.2026",
    "%B %d, %Y": "November 25, 2026",
    "%Y-%m-%d %H:%M:%S": "2026-11-25 14:30:00",
    "%a, %d %b %Y %H:%M:%S %z": "RFC 2822 (Wed, 25 Nov 2026 14:30:00 +0100)",
    "unix": "Unix timestamp (seconds)",
}


def _output(value: Any) -> dict[str, Any]:
    return {"output": value}


# -- text -----------------------------------------------------------------------------------


def _split(text: str, options: Mapping[str, Any]) -> Any:
    parts = text.split(options.get("separator") or " ")
    segment = str(options.get("segment") or "first")
    if segment == "all":
        return parts
    if segment == "last":
        return parts[-1]
    if segment == "first":
        return parts[0]
    try:
        return parts[int(segment) - 1] if int(segment) > 0 else ""
    except (ValueError, IndexError):
        return ""


def _truncate(text: str, options: Mapping[str, Any]) -> str:
    limit = int(options["max_length"])
    if len(text) <= limit:
        return text
    if options.get("append_ellipsis"):
        return text[: max(0, limit - 1)] + "…"
    return text[:limit]


def _first(pattern: re.Pattern[str], text: str) -> str:
    found = pattern.search(text)
    return found.group(0).rstrip(".,;:!?") if found else ""


TEXT_TRANSFORMS: dict[str, tuple[str, Callable[[str, Mapping[str, Any]], Any]]] = {
    "uppercase": ("Uppercase", lambda text, _: text.upper()),
    "lowercase": ("Lowercase", lambda text, _: text.lower()),
    "titlecase": ("Title Case", lambda text, _: text.title()),
    "capitalize": ("Capitalize first letter", lambda text, _: text[:1].upper() + text[1:]),
    "trim_whitespace": ("Trim whitespace", lambda text, _: " ".join(text.split())),
    "replace": (
        "Replace",
        lambda text, options: text.replace(options["find"], options.get("replace_with") or ""),
    ),
    "split": ("Split into segments", _split),
    "truncate": ("Truncate", _truncate),
    "word_count": ("Count words", lambda text, _: len(text.split())),
    "extract_email": ("Extract email address", lambda text, _: _first(EMAIL, text)),
    "extract_url": ("Extract URL", lambda text, _: _first(URL, text)),
    "extract_number": ("Extract number", lambda text, _: _first(NUMBER, text)),
}


async def text_options(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
    transform = inputs.get("transform")
    if transform == "replace":
        return [
            InputField("find", "Find", required=True, help_text="The text to look for."),
            InputField("replace_with", "Replace with", help_text="Empty removes it."),
        ]
    if transform == "split":
        return [
            InputField("separator", "Separator", default=" ", help_text="A space if empty."),
            InputField(
                "segment",
                "Segment",
                default="first",
                help_text="first, last, all (a list) or a position counted from 1.",
            ),
        ]
    if transform == "truncate":
        return [
            InputField(
                "max_length", "Max length", FieldType.INTEGER, required=True, help_text="Chars."
            ),
            InputField(
                "append_ellipsis",
                "Append ellipsis",
                FieldType.BOOLEAN,
                help_text="End a shortened text with … (within the length).",
            ),
        ]
    return []


async def text(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    _, transform = TEXT_TRANSFORMS[inputs["transform"]]
    return _output(transform(str(inputs.get("input") or ""), inputs))


# -- numbers --------------------------------------------------------------------------------


def parse_number(raw: Any, decimal_mark: str = ".") -> Decimal:
    """A number from text as people write it: "1,234.50", "$ 12", "1.234,5" (with ",")."""
    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        return Decimal(str(raw))
    text = re.sub(r"[^\d.,\-]", "", str(raw))
    grouping = "," if decimal_mark == "." else "."
    text = text.replace(grouping, "").replace(decimal_mark, ".")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise HaltError(f"{raw!r} is not a number.") from None


def _locale(code: str) -> Locale:
    try:
        return Locale.parse(code or "en_US", sep="-" if "-" in code else "_")
    except (UnknownLocaleError, ValueError):
        raise HaltError(f"{code!r} is not a known locale (e.g. en_US, de_DE).") from None


async def number(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    value = parse_number(inputs["input"], inputs.get("input_decimal_mark") or ".")
    given_places = inputs.get("decimal_places")
    places = 2 if given_places is None else int(given_places)
    if not 0 <= places <= 10:
        raise HaltError("Decimal places must be between 0 and 10.")
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    locale = _locale(str(inputs.get("locale") or "en_US"))
    transform = inputs["transform"]
    if transform == "round":
        return _output(float(rounded) if places else int(rounded))
    pattern = "#,##0" + ("." + "0" * places if places else "")
    if transform == "format_currency":
        currency = str(inputs.get("currency") or "USD").upper()
        if not is_currency(currency):
            raise HaltError(f"{currency!r} is not an ISO 4217 currency code.")
        # The locale's own currency pattern (symbol before or after, spacing) with the
        # decimal places asked for.
        standard = locale.currency_formats["standard"].pattern.split(";")[0]
        currency_pattern = re.sub(r"\.0+", "." + "0" * places if places else "", standard)
        return _output(
            format_currency(
                rounded, currency, format=currency_pattern, locale=locale, currency_digits=False
            )
        )
    return _output(format_decimal(rounded, format=pattern, locale=locale))


# -- dates ----------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise HaltError(f"{name!r} is not a time zone (e.g. Europe/Paris, UTC).") from None


def parse_date(raw: Any, zone: ZoneInfo, *, day_first: bool = False) -> datetime:
    """A moment from text: ISO 8601, common written forms, "now" or a Unix timestamp; a time
    without an offset is read in ``zone``."""
    text = str(raw).strip()
    if text.lower() == "now":
        return datetime.now(UTC)
    if re.fullmatch(r"-?\d{9,11}(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), UTC)
    try:
        parsed = date_parser.parse(text, dayfirst=day_first)
    except (ValueError, OverflowError):
        raise HaltError(f"{text!r} is not a date this can read.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def shift(moment: datetime, expression: str) -> datetime:
    """``moment`` moved by "+1 day", "-2 hours 30 minutes", "+1 month -3 days"… in wall time."""
    parts = SHIFT.findall(expression)
    leftover = SHIFT.sub("", expression).strip(" ,+")
    if not parts or leftover:
        raise HaltError(f"{expression!r} is not a shift like '+1 day' or '-2 hours'.")
    amounts: dict[str, int] = {}
    for amount, unit in parts:
        name = unit.lower() + "s"
        amounts[name] = amounts.get(name, 0) + int(amount.replace(" ", ""))
    delta = relativedelta(
        years=amounts.get("years", 0),
        months=amounts.get("months", 0),
        weeks=amounts.get("weeks", 0),
        days=amounts.get("days", 0),
        hours=amounts.get("hours", 0),
        minutes=amounts.get("minutes", 0),
        seconds=amounts.get("seconds", 0),
    )
    return moment + delta


def format_date(moment: datetime, to_format: str) -> Any:
    if to_format == "iso":
        return moment.isoformat()
    if to_format == "unix":
        return int(moment.timestamp())
    return moment.strftime(to_format)


async def date(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    source = _zone(str(inputs.get("from_timezone") or "UTC"))
    target = _zone(str(inputs.get("to_timezone") or inputs.get("from_timezone") or "UTC"))
    moment = parse_date(inputs["input"], source, day_first=bool(inputs.get("day_first")))
    moment = moment.astimezone(target)
    if inputs["transform"] == "shift":
        moment = shift(moment, str(inputs.get("expression") or ""))
    return _output(format_date(moment, str(inputs.get("to_format") or "iso")))


async def date_options(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
    if inputs.get("transform") != "shift":
        return []
    return [
        InputField(
            "expression",
            "Shift by",
            required=True,
            placeholder="+1 day -2 hours",
            help_text="Amounts of years, months, weeks, days, hours, minutes or seconds.",
        )
    ]


OUTPUT = [OutputField("output", "Output", sample="Hello World")]

app = App(
    key="formatter",
    title="Formatter",
    description="Change text, numbers and dates: case, replace, split, extract, currency, time "
    "zones and date arithmetic.",
    auth=Auth.none(),
    categories=("utilities",),
    actions=[
        Action(
            "text",
            "Text",
            "Transforms text: change case, trim, replace, split, truncate, count words or "
            "extract an email address, URL or number.",
            text,
            inputs=[
                InputField(
                    "transform",
                    "Transform",
                    required=True,
                    choices=[Choice(key, label) for key, (label, _) in TEXT_TRANSFORMS.items()],
                    alters_dynamic_fields=True,
                    help_text="What to do with the text.",
                ),
                InputField("input", "Input", FieldType.TEXT, help_text="The text to transform."),
                DynamicFields("options", text_options, depends_on=("transform",)),
            ],
            outputs=OUTPUT,
            sample={"output": "Hello World"},
        ),
        Action(
            "number",
            "Numbers",
            "Formats a number for a locale (1,234.50 or 1.234,50), as a currency, or rounds it.",
            number,
            inputs=[
                InputField(
                    "transform",
                    "Transform",
                    required=True,
                    choices=[
                        Choice("format_number", "Format number"),
                        Choice("format_currency", "Format currency"),
                        Choice("round", "Round"),
                    ],
                    help_text="What to do with the number.",
                ),
                InputField(
                    "input",
                    "Input",
                    required=True,
                    help_text="A number, as text is fine: 1234.5, $1,234.50.",
                ),
                InputField(
                    "input_decimal_mark",
                    "Input decimal mark",
                    choices=[Choice(".", "Period (1,234.5)"), Choice(",", "Comma (1.234,5)")],
                    default=".",
                    help_text="How the input writes decimals.",
                ),
                InputField(
                    "decimal_places",
                    "Decimal places",
                    FieldType.INTEGER,
                    default=2,
                    help_text="Digits after the decimal mark (0-10).",
                ),
                InputField(
                    "locale",
                    "Locale",
                    default="en_US",
                    help_text="How to write the result, e.g. en_US, de_DE, fr_FR, ja_JP.",
                ),
                InputField(
                    "currency", "Currency", default="USD", help_text="ISO code, e.g. EUR, JPY."
                ),
            ],
            outputs=[OutputField("output", "Output", sample="$1,234.50")],
            sample={"output": "$1,234.50"},
        ),
        Action(
            "date",
            "Date / Time",
            "Reads a date in any common form, converts it between time zones, shifts it by "
            "days, months or hours, and writes it in the format asked for.",
            date,
            inputs=[
                InputField(
                    "transform",
                    "Transform",
                    required=True,
                    choices=[Choice("format", "Format"), Choice("shift", "Add/subtract time")],
                    alters_dynamic_fields=True,
                    help_text="Format only, or shift too.",
                ),
                InputField(
                    "input",
                    "Input",
                    required=True,
                    help_text="A date: 2026-11-25 14:30, 25 Nov 2026, a Unix timestamp or now.",
                ),
                InputField(
                    "to_format",
                    "To format",
                    choices=[Choice(key, label) for key, label in DATE_FORMATS.items()],
                    default="iso",
                    help_text="How to write the result.",
                ),
                InputField(
                    "from_timezone",
                    "From time zone",
                    default="UTC",
                    help_text="The zone of an input without an offset, e.g. America/New_York.",
                ),
                InputField(
                    "to_timezone",
                    "To time zone",
                    help_text="The zone to write the result in; the input's if empty.",
                ),
                InputField(
                    "day_first",
                    "Day first",
                    FieldType.BOOLEAN,
                    help_text="Read 01/02/2026 as 1 February rather than January 2.",
                ),
                DynamicFields("options", date_options, depends_on=("transform",)),
            ],
            outputs=[OutputField("output", "Output", sample="2026-11-25T14:30:00+01:00")],
            sample={"output": "2026-11-25T14:30:00+01:00"},
        ),
    ],
)
