"""Google Sheets: append a row, update a row, find rows; the sheet's header row gives one
field per column.

Reference (https://developers.google.com/workspace/sheets/api/reference/rest): append
https://developers.google.com/workspace/sheets/api/reference/rest/v4/spreadsheets.values/append
(``valueInputOption=USER_ENTERED``, ``insertDataOption=INSERT_ROWS``, a ``ValueRange`` body),
update https://developers.google.com/workspace/sheets/api/reference/rest/v4/spreadsheets.values/update
(``null`` in ``values`` leaves a cell as it is), read
https://developers.google.com/workspace/sheets/api/reference/rest/v4/spreadsheets.values/get,
the tabs https://developers.google.com/workspace/sheets/api/reference/rest/v4/spreadsheets/get
(``fields=sheets.properties``), A1 notation with quoted sheet names
https://developers.google.com/workspace/sheets/api/guides/concepts#cell; the spreadsheets from
Drive https://developers.google.com/workspace/drive/api/reference/rest/v3/files/list (``q``,
``pageToken``/``nextPageToken``) and the account
https://developers.google.com/workspace/drive/api/reference/rest/v3/about/get; OAuth
https://developers.google.com/identity/protocols/oauth2/web-server (``Authorization: Bearer``,
``access_type=offline`` for a refresh token); errors
https://cloud.google.com/apis/design/errors (``{"error": {"code", "message", "status"}}``),
limits https://developers.google.com/workspace/sheets/api/limits (per-minute quotas: 429
``RESOURCE_EXHAUSTED``, no ``Retry-After``) and Drive's 403 ``userRateLimitExceeded``
https://developers.google.com/workspace/drive/api/guides/handle-errors.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx2

from actionruns.sdk import (
    Action,
    ActionType,
    App,
    Auth,
    Choice,
    ChoicePage,
    Context,
    DynamicFields,
    FieldType,
    HaltError,
    InputField,
    OAuth2Config,
    OutputField,
    ThrottledError,
)
from actionruns.sdk.http import error_message, raise_for_status
from actionruns.sdk.pagination import cursor_page

SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"
DRIVE = "https://www.googleapis.com/drive/v3"
COLUMN_PREFIX = "column_"
MAX_MATCHES = 10
QUOTA_WINDOW_SECONDS = 60.0  # Sheets and Drive quotas are counted per minute
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
_SPREADSHEET_URL = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")
_LETTERS = re.compile(r"^[A-Z]{1,3}$")


def _rate_limited(response: httpx2.Response) -> bool:
    """Drive says "rate limited" with a 403 and a reason, as well as with a 429."""
    if response.status_code != 403:
        return False
    try:
        body: Any = response.json()
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    listed = error.get("errors") if isinstance(error, dict) else None
    reasons = {item.get("reason") for item in listed or [] if isinstance(item, dict)}
    return bool(reasons & _RATE_REASONS)


async def _call(ctx: Context, method: str, url: str, **request: Any) -> Any:
    response = await ctx.http.request(method, url, **request)
    if _rate_limited(response):
        raise ThrottledError(
            error_message(response), delay=QUOTA_WINDOW_SECONDS, meta={"status": 429}
        )
    raise_for_status(response, throttle_delay=QUOTA_WINDOW_SECONDS)
    return response.json()


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = string.ascii_uppercase[remainder] + letters
    return letters


def a1(sheet: str, cells: str = "") -> str:
    quoted = "'" + sheet.replace("'", "''") + "'"
    return f"{quoted}!{cells}" if cells else quoted


def spreadsheet_id(value: Any) -> str:
    """A spreadsheet's ID, also from its URL (``…/spreadsheets/d/<id>/edit``)."""
    text = str(value).strip()
    found = _SPREADSHEET_URL.search(text)
    return found.group(1) if found else text


def _values_url(inputs: Mapping[str, Any], cells: str = "", suffix: str = "") -> str:
    target = quote(a1(str(inputs["sheet"]), cells), safe="")
    return f"{SHEETS}/{spreadsheet_id(inputs['spreadsheet'])}/values/{target}{suffix}"


async def test_token(ctx: Context) -> str:
    about = await _call(
        ctx, "GET", f"{DRIVE}/about", params={"fields": "user(displayName,emailAddress)"}
    )
    return str(about["user"]["emailAddress"])


async def spreadsheet_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(token: str | None) -> tuple[list[Choice], str | None]:
        params = {
            "q": "mimeType='application/vnd.google-apps.spreadsheet' and trashed=false",
            "fields": "nextPageToken,files(id,name)",
            "orderBy": "modifiedTime desc",
            "pageSize": "100",
        }
        if token:
            params["pageToken"] = token
        found = await _call(ctx, "GET", f"{DRIVE}/files", params=params)
        return [Choice(item["id"], item["name"]) for item in found["files"]], found.get(
            "nextPageToken"
        )

    return await cursor_page(fetch, page)


async def sheet_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page or not inputs.get("spreadsheet"):
        return ChoicePage([])
    found = await _call(
        ctx,
        "GET",
        f"{SHEETS}/{spreadsheet_id(inputs['spreadsheet'])}",
        params={"fields": "sheets.properties(sheetId,title)"},
    )
    titles = [sheet["properties"]["title"] for sheet in found["sheets"]]
    return ChoicePage([Choice(title) for title in titles])


async def _headers(ctx: Context, inputs: Mapping[str, Any]) -> list[str]:
    found = await _call(ctx, "GET", _values_url(inputs, "1:1"))
    rows = found.get("values") or [[]]
    return [str(value) for value in rows[0]]


async def column_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page or not inputs.get("spreadsheet") or not inputs.get("sheet"):
        return ChoicePage([])
    headers = [header for header in await _headers(ctx, inputs) if header]
    return ChoicePage([Choice(header) for header in dict.fromkeys(headers)])


async def column_fields(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
    if not inputs.get("spreadsheet") or not inputs.get("sheet"):
        return []
    return [
        InputField(
            f"{COLUMN_PREFIX}{column_letter(index)}",
            header or f"Column {column_letter(index)}",
            help_text=f"Column {column_letter(index)}.",
        )
        for index, header in enumerate(await _headers(ctx, inputs))
    ]


def _row(inputs: Mapping[str, Any], width: int, *, blank: Any) -> list[Any]:
    return [inputs.get(f"{COLUMN_PREFIX}{column_letter(index)}", blank) for index in range(width)]


def _width(inputs: Mapping[str, Any]) -> int:
    letters = [
        key[len(COLUMN_PREFIX) :]
        for key, value in inputs.items()
        if key.startswith(COLUMN_PREFIX)
        and _LETTERS.match(key[len(COLUMN_PREFIX) :])
        and value is not None
    ]
    if not letters:
        raise HaltError("Give a value for at least one column.")
    return 1 + max(_column_index(letter) for letter in letters)


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + string.ascii_uppercase.index(letter) + 1
    return index - 1


def _row_number(updated_range: str) -> int | None:
    found = re.search(r"![A-Z]+(\d+)", updated_range)
    return int(found.group(1)) if found else None


async def append_row(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    row = _row(inputs, _width(inputs), blank="")
    appended = await _call(
        ctx,
        "POST",
        _values_url(inputs, suffix=":append"),
        params={"valueInputOption": "USER_ENTERED", "insertDataOption": "INSERT_ROWS"},
        json={"values": [row]},
    )
    updated = appended["updates"]["updatedRange"]
    return {"row_number": _row_number(updated), "updated_range": updated}


async def update_row(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    number = int(inputs["row_number"])
    if number < 2:
        raise HaltError("Row 1 holds the headers; give a row number from 2.")
    cells = f"A{number}"
    row = _row(inputs, _width(inputs), blank=None)  # null leaves a cell as it is
    updated = await _call(
        ctx,
        "PUT",
        _values_url(inputs, cells),
        params={"valueInputOption": "USER_ENTERED"},
        json={"range": a1(str(inputs["sheet"]), cells), "majorDimension": "ROWS", "values": [row]},
    )
    return {"row_number": number, "updated_range": updated["updatedRange"]}


async def find_row(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = await _call(ctx, "GET", _values_url(inputs))
    rows = found.get("values") or []
    if not rows:
        return []
    headers = [str(value) for value in rows[0]]
    if inputs["column"] not in headers:
        raise HaltError(f"The sheet has no column headed {inputs['column']!r}.")
    position = headers.index(inputs["column"])
    matches = []
    for number, row in enumerate(rows[1:], start=2):
        if position < len(row) and str(row[position]) == str(inputs["value"]):
            values = {header: row[i] if i < len(row) else "" for i, header in enumerate(headers)}
            matches.append({"row_number": number, **values})
            if len(matches) == MAX_MATCHES:
                break
    return matches


SPREADSHEET = InputField(
    "spreadsheet",
    "Spreadsheet",
    required=True,
    dynamic_choices=spreadsheet_choices,
    alters_dynamic_fields=True,
    help_text="The spreadsheet (or its ID or URL).",
)
SHEET = InputField(
    "sheet",
    "Sheet",
    required=True,
    dynamic_choices=sheet_choices,
    depends_on=("spreadsheet",),
    alters_dynamic_fields=True,
    help_text="The tab; its first row holds the column headers.",
)
COLUMNS = DynamicFields("columns", column_fields, depends_on=("spreadsheet", "sheet"))
ROW_OUTPUTS = [
    OutputField("row_number", "Row number", FieldType.INTEGER),
    OutputField("updated_range", "Updated range"),
]

app = App(
    key="google_sheets",
    title="Google Sheets",
    description="Append, update and find rows in Google Sheets.",
    auth=Auth.oauth2_bearer(
        OAuth2Config(
            authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
            token_url="https://oauth2.googleapis.com/token",  # noqa: S106 (a URL)
            scopes=(
                "https://www.googleapis.com/auth/spreadsheets",
                "https://www.googleapis.com/auth/drive.metadata.readonly",
            ),
            # A refresh token comes only with offline access, and again only on consent.
            authorize_params={"access_type": "offline", "prompt": "consent"},
        )
    ),
    test=test_token,
    categories=("spreadsheets", "productivity"),
    actions=[
        Action(
            "append_row",
            "Append row",
            "Adds a row after the last one; one field per column header.",
            append_row,
            inputs=[SPREADSHEET, SHEET, COLUMNS],
            outputs=ROW_OUTPUTS,
            sample={"row_number": 12, "updated_range": "'Leads'!A12:C12"},
        ),
        Action(
            "update_row",
            "Update row",
            "Sets cells of a row; columns left empty keep their value.",
            update_row,
            inputs=[
                SPREADSHEET,
                SHEET,
                InputField(
                    "row_number", "Row", FieldType.INTEGER, required=True, help_text="2 or more."
                ),
                COLUMNS,
            ],
            outputs=ROW_OUTPUTS,
            sample={"row_number": 12, "updated_range": "'Leads'!A12:C12"},
        ),
        Action(
            "find_row",
            "Find row",
            "Finds rows whose column equals a value (up to 10), with their row numbers.",
            find_row,
            type=ActionType.SEARCH,
            inputs=[
                SPREADSHEET,
                SHEET,
                InputField(
                    "column",
                    "Column",
                    required=True,
                    dynamic_choices=column_choices,
                    depends_on=("spreadsheet", "sheet"),
                    help_text="The column to match, by its header.",
                ),
                InputField("value", "Value", required=True, help_text="The value to match."),
            ],
            outputs=[OutputField("row_number", "Row number", FieldType.INTEGER)],
            sample={"row_number": 12, "Name": "Ada", "Email": "ada@example.com"},
        ),
    ],
)
