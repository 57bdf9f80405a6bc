"""Recorded HTTP fixtures: each action performed against the vendor's recorded answers.

A connector ships ``fixtures/<app key>.json`` beside its module::

    {
      "credentials": {"api_key": "…"},
      "connection_test": {"exchanges": [...], "label": "Example Co"},
      "cases": [
        {
          "action": "create_issue",
          "title": "an issue with labels",
          "inputs": {...},
          "exchanges": [
            {
              "request": {"method": "POST", "url": "https://api.example.com/issues",
                          "query": {...}, "headers": {...},
                          "json": {...} | "form": {...} | "multipart": {...}},
              "response": {"status": 201, "headers": {...},
                           "json": {...} | "text": "…" | "base64": "…" (a file)}
            }
          ],
          "result": {...}  |  "error": {"class": "HaltError", "contains": "not found"}
        },
        {
          "action": "create_issue", "choices_for": "repository", "page": 0,
          "exchanges": [...], "result": {"choices": [["octo/site", "octo/site"]], "has_more": true}
        }
      ]
    }

A replay performs the action with the case's inputs; every request it makes must be the
next recorded one exactly (method, URL, query, the listed headers, body), the recorded
response is its answer, and the outcome must be the recorded result or error. The check
(``actionruns connectors check``) and the test suite replay every case.
"""

from __future__ import annotations

import base64
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx2

from actionruns.sdk.app import Action, App, normalize_results
from actionruns.sdk.client_credentials import forget_tokens
from actionruns.sdk.context import Context, open_context
from actionruns.sdk.errors import ActionError
from actionruns.sdk.fields import FieldErrors, validate_inputs
from actionruns.sdk.outbound import OutboundGuard


@dataclass(frozen=True)
class Case:
    action: str
    title: str
    inputs: Mapping[str, Any]
    exchanges: Sequence[Mapping[str, Any]]
    result: Any = None
    error: Mapping[str, str] | None = None
    choices_for: str | None = None  # a dynamic dropdown's field key instead of a perform
    page: int = 0

    @property
    def name(self) -> str:
        target = f"{self.action}.{self.choices_for} choices" if self.choices_for else self.action
        return f"{target}: {self.title}"


@dataclass(frozen=True)
class AppFixtures:
    app: App
    credentials: Mapping[str, Any]
    cases: Sequence[Case]
    connection_test: Sequence[Mapping[str, Any]] = ()
    connection_label: str | None = None

    @property
    def hosts(self) -> set[str]:
        exchanges = [*self.connection_test, *(e for case in self.cases for e in case.exchanges)]
        return {httpx2.URL(e["request"]["url"]).host for e in exchanges}


def fixtures_path(app: App) -> Path | None:
    """``fixtures/<key>.json`` beside the module that defines the app's actions, unless the
    app says where."""
    if app.fixtures is not None:
        return app.fixtures
    if not app.actions:
        return None
    module = inspect.getmodule(app.actions[0].perform)
    if module is None or module.__file__ is None:
        return None
    return Path(module.__file__).parent / "fixtures" / f"{app.key}.json"


def load_fixtures(app: App) -> AppFixtures | None:
    path = fixtures_path(app)
    if path is None or not path.is_file():
        return None
    document = json.loads(path.read_text())
    test = document.get("connection_test") or {}
    return AppFixtures(
        app=app,
        credentials=document.get("credentials", {}),
        cases=[
            Case(
                action=case["action"],
                title=case.get("title", ""),
                inputs=case.get("inputs", {}),
                exchanges=case.get("exchanges", []),
                result=case.get("result"),
                error=case.get("error"),
                choices_for=case.get("choices_for"),
                page=case.get("page", 0),
            )
            for case in document.get("cases", [])
        ],
        connection_test=test.get("exchanges", []),
        connection_label=test.get("label"),
    )


def is_json_media(content_type: str) -> bool:
    """A JSON body's content type: application/json, a JSON type of its own (``+json``), or
    text/json (which Datadog's intake endpoints declare)."""
    return content_type in ("application/json", "text/json") or content_type.endswith("+json")


def _body_problems(expected: Mapping[str, Any], request: httpx2.Request) -> list[str]:
    content = request.content
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if "json" in expected:
        if not is_json_media(content_type):
            return [f"sent {content_type or 'no content type'}, expected JSON"]
        sent = json.loads(content)
        return [] if sent == expected["json"] else [f"JSON body {sent!r} != {expected['json']!r}"]
    if "form" in expected:
        if content_type != "application/x-www-form-urlencoded":
            return [f"sent {content_type or 'no content type'}, expected a form"]
        sent_form = _multi(parse_qs(content.decode(), keep_blank_values=True))
        want = _multi(expected["form"])
        return [] if sent_form == want else [f"form {sent_form!r} != {want!r}"]
    if "multipart" in expected:
        if content_type != "multipart/form-data":
            return [f"sent {content_type or 'no content type'}, expected multipart/form-data"]
        parts = multipart_parts(request.headers["content-type"], content)
        want = expected["multipart"]
        return [] if parts == want else [f"multipart {parts!r} != {want!r}"]
    if content:
        return [f"sent a body {content[:200]!r} where none was recorded"]
    return []


def multipart_parts(content_type: str, content: bytes) -> dict[str, Any]:
    """A ``multipart/form-data`` body as its parts by name (a list when a name repeats): a
    value's text, or a file's ``filename``, ``content_type`` and ``content`` (text, or
    ``base64:…`` when it is not UTF-8)."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + content
    )
    parts: dict[str, Any] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        try:
            text = data.decode()
        except UnicodeDecodeError:
            text = "base64:" + base64.b64encode(data).decode()
        filename = part.get_filename()
        value: Any = text
        if filename is not None:
            value = {"filename": filename, "content_type": part.get_content_type(), "content": text}
        if name in parts:
            known = parts[name]
            parts[name] = [*known, value] if isinstance(known, list) else [known, value]
        else:
            parts[name] = value
    return parts


def _multi(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Query or form values as lists of strings, however they were written down."""
    return {
        key: [str(item) for item in value] if isinstance(value, list) else [str(value)]
        for key, value in values.items()
    }


def request_problems(expected: Mapping[str, Any], request: httpx2.Request) -> list[str]:
    """How ``request`` differs from the recorded one (nothing if it is the same)."""
    problems: list[str] = []
    url = httpx2.URL(expected["url"])
    if request.method != expected.get("method", "GET"):
        problems.append(f"method {request.method}, expected {expected.get('method', 'GET')}")
    sent_url = request.url.copy_with(query=None)
    if sent_url != url.copy_with(query=None):
        problems.append(f"URL {sent_url}, expected {url.copy_with(query=None)}")
    sent_query = _multi(parse_qs(request.url.query.decode(), keep_blank_values=True))
    want_query = _multi({**parse_qs(url.query.decode()), **expected.get("query", {})})
    if sent_query != want_query:
        problems.append(f"query {sent_query!r}, expected {want_query!r}")
    for name, value in expected.get("headers", {}).items():
        if request.headers.get(name) != value:
            problems.append(f"header {name}: {request.headers.get(name)!r}, expected {value!r}")
    problems.extend(_body_problems(expected, request))
    return problems


@dataclass
class ReplayTransport(httpx2.AsyncBaseTransport):
    """Answers each request with the next recorded response, noting every difference."""

    exchanges: list[Mapping[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Shown every request as sent (e.g. to check it against the vendor's API description).
    observe: Callable[[httpx2.Request], None] | None = None

    def extend(self, exchanges: Sequence[Mapping[str, Any]]) -> None:
        self.exchanges.extend(exchanges)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        if self.observe is not None:
            self.observe(request)
        if not self.exchanges:
            self.problems.append(f"unexpected request {request.method} {request.url}")
            return httpx2.Response(599, json={"error": "no recorded exchange for this request"})
        exchange = self.exchanges.pop(0)
        self.problems.extend(
            f"{request.method} {request.url.path}: {problem}"
            for problem in request_problems(exchange["request"], request)
        )
        answer = exchange.get("response", {})
        status = answer.get("status", 200)
        headers = answer.get("headers", {})
        if "json" in answer:
            return httpx2.Response(status, headers=headers, json=answer["json"])
        if "base64" in answer:  # a file
            return httpx2.Response(
                status, headers=headers, content=base64.b64decode(answer["base64"])
            )
        return httpx2.Response(status, headers=headers, text=answer.get("text", ""))


async def perform_with_fields(action: Action, ctx: Context, inputs: Mapping[str, Any]) -> Any:
    """Validate ``inputs`` against the action's fields (dynamic ones included) and perform."""
    fields = await action.input_fields(ctx, inputs)
    return await action.perform(ctx, validate_inputs(fields, inputs))


async def _choices(action: Action, ctx: Context, case: Case) -> dict[str, Any]:
    spec = next((f for f in action.static_inputs if f.key == case.choices_for), None)
    if spec is None or spec.dynamic_choices is None:
        raise FieldErrors({str(case.choices_for): "is not a field with dynamic choices"})
    page = await spec.dynamic_choices(ctx, case.inputs, case.page)
    return {
        "choices": [[choice.value, choice.label or choice.value] for choice in page.choices],
        "has_more": page.has_more,
    }


def _outcome_problems(case: Case, outcome: Any, error: BaseException | None) -> list[str]:
    if case.error is not None:
        wanted = case.error.get("class", "ActionError")
        if error is None:
            return [f"expected {wanted}, the action succeeded with {outcome!r}"]
        if type(error).__name__ != wanted:
            return [f"raised {type(error).__name__} ({error}), expected {wanted}"]
        if case.error.get("contains", "") not in str(error):
            return [f"error {str(error)!r} does not say {case.error['contains']!r}"]
        return []
    if error is not None:
        return [f"raised {type(error).__name__}: {error}"]
    if case.result is not None and normalize_results(outcome) != normalize_results(case.result):
        return [f"result {outcome!r} != recorded {case.result!r}"]
    return []


async def replay(
    fixtures: AppFixtures,
    case: Case,
    observe: Callable[[httpx2.Request], None] | None = None,
) -> list[str]:
    """Problems found performing ``case`` against its recorded exchanges (none: it passes)."""
    action = fixtures.app.action(case.action)
    if action is None:
        return [f"{case.name}: the app has no action {case.action!r}"]
    transport = ReplayTransport(list(case.exchanges), observe=observe)
    forget_tokens()  # each case recorded its own token request, if the app asks for one
    outcome: Any = None
    error: BaseException | None = None
    async with open_context(
        fixtures.app.auth,
        fixtures.credentials,
        OutboundGuard(),
        app_key=fixtures.app.key,
        transport=transport,
    ) as ctx:
        try:
            if case.choices_for:
                outcome = await _choices(action, ctx, case)
            else:
                outcome = await perform_with_fields(action, ctx, case.inputs)
        except (ActionError, FieldErrors) as exc:
            error = exc
        except Exception as exc:  # a connector bug: report it, keep checking the others
            return [f"{case.name}: crashed with {type(exc).__name__}: {exc}"]
    problems = transport.problems + _outcome_problems(case, outcome, error)
    if transport.exchanges:
        problems.append(f"{len(transport.exchanges)} recorded requests were never made")
    return [f"{case.name}: {problem}" for problem in problems]


async def replay_connection_test(
    fixtures: AppFixtures, observe: Callable[[httpx2.Request], None] | None = None
) -> list[str]:
    test = fixtures.app.test
    if test is None:
        return []
    if not fixtures.connection_test:
        return ["connection test: the app defines one but no exchanges are recorded for it"]
    transport = ReplayTransport(list(fixtures.connection_test), observe=observe)
    forget_tokens()
    async with open_context(
        fixtures.app.auth,
        fixtures.credentials,
        OutboundGuard(),
        app_key=fixtures.app.key,
        transport=transport,
    ) as ctx:
        try:
            label = await test(ctx)
        except ActionError as exc:
            return [f"connection test: raised {type(exc).__name__}: {exc}"]
    problems = list(transport.problems)
    if fixtures.connection_label is not None and label != fixtures.connection_label:
        problems.append(f"label {label!r}, recorded {fixtures.connection_label!r}")
    return [f"connection test: {problem}" for problem in problems]


async def replay_app(fixtures: AppFixtures) -> list[str]:
    problems = await replay_connection_test(fixtures)
    for case in fixtures.cases:
        problems.extend(await replay(fixtures, case))
    untested = {a.key for a in fixtures.app.actions} - {case.action for case in fixtures.cases}
    problems.extend(f"{key}: no recorded case" for key in sorted(untested))
    return problems
