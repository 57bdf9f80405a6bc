"""A manifest made into an ``App``: the same SDK types, HTTP client, guard, redaction and error
classes as a connector written by hand.

Everything a run needs is worked out here once, when the app is built: each action's fields
and the plan of its request. A run validates its inputs, fills the plan and sends it.

A manifest may name a hook module for what data cannot say; it may define any of::

    def before_request(ctx: Context, operation: str, request: httpx2.Request) -> None
    def after_response(ctx: Context, operation: str, response: httpx2.Response, data: Any) -> Any
    async def test(ctx: Context) -> str | None        # replaces the manifest's connection test
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx2

from actionruns.sdk.app import Action, App, PerformResult
from actionruns.sdk.auth import Auth, AuthType, OAuth2Config, http_basic
from actionruns.sdk.client_credentials import ClientCredentialsAuth
from actionruns.sdk.context import Context
from actionruns.sdk.described.manifest import (
    AppManifest,
    AuthSpec,
    DynamicChoicesSpec,
    FieldSpec,
    OperationSpec,
    PlacementSpec,
    RequestSpec,
)
from actionruns.sdk.described.requests import BuiltRequest, build_request
from actionruns.sdk.described.runner import RunnerFields, load_runner
from actionruns.sdk.described.templates import (
    fill,
    lookup,
    placeholders,
    render,
    render_value,
)
from actionruns.sdk.errors import ExpiredAuthError, HaltError, ThrottledError, TransientError
from actionruns.sdk.fields import (
    Choice,
    ChoicePage,
    DynamicFields,
    FieldType,
    InputField,
    OutputField,
    sample_value,
    validate_inputs,
)
from actionruns.sdk.files import FileContent, file_answer, read_file
from actionruns.sdk.http import DEFAULT_THROTTLE_DELAY, error_message, raise_for_status
from actionruns.sdk.limits import Limits, RateLimit

# A credential put into the base URL: one host label or path segment, never more.
_URL_PART = re.compile(r"[A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*")


def input_field(spec: FieldSpec, choices: Any = None, depends_on: Sequence[str] = ()) -> InputField:
    return InputField(
        key=spec.key,
        label=spec.label,
        type=spec.type,
        required=spec.required,
        default=spec.default,
        help_text=spec.help_text,
        placeholder=spec.placeholder,
        help_url=spec.help_url,
        help_steps=spec.help_steps,
        choices=tuple(Choice(choice.value, choice.label) for choice in spec.choices),
        dynamic_choices=choices,
        depends_on=tuple(depends_on),
        list=spec.list,
        secret=spec.secret,
    )


def base_url(template: str, credentials: Mapping[str, Any]) -> str:
    """The base URL with credentials in it checked: a whole URL where the template starts with
    one (a self-hosted instance), else one host label or path segment each."""
    names = placeholders(template)
    if not names:
        return template
    values: dict[str, str] = {}
    for name in names:
        value = str(credentials.get(name) or "").strip()
        if template.startswith("{" + name + "}"):
            parts = urlsplit(value)
            if parts.scheme not in ("https", "http") or not parts.hostname or parts.username:
                raise ExpiredAuthError(f"{name} must be an address such as https://example.com.")
            if parts.query or parts.fragment:
                raise ExpiredAuthError(f"{name} must be an address without ? or #.")
            value = value.rstrip("/")
        elif not _URL_PART.fullmatch(value):
            raise ExpiredAuthError(
                f"{name} must be letters, digits, dots and dashes only (got {value!r})."
            )
        values[name] = value
    return render(template, values)


def _placements(
    placements: Sequence[PlacementSpec],
) -> Callable[[httpx2.Request, Mapping[str, Any]], None]:
    def apply(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
        for placement in placements:
            value = render(placement.template, credentials)
            if placement.location == "header":
                request.headers[placement.name] = value
            elif placement.location == "query":
                request.url = request.url.copy_add_param(placement.name, value)
            else:
                cookie = f"{placement.name}={value}"
                existing = request.headers.get("Cookie")
                request.headers["Cookie"] = f"{existing}; {cookie}" if existing else cookie

    return apply


def build_auth(spec: AuthSpec) -> Auth:
    fields = tuple(input_field(field) for field in spec.fields)
    if spec.type is AuthType.NONE:
        return Auth.none()
    if spec.type is AuthType.OAUTH2 and spec.oauth2 is not None:
        oauth2 = spec.oauth2
        config = OAuth2Config(
            authorize_url=oauth2.authorize_url,
            token_url=oauth2.token_url,
            scopes=oauth2.scopes,
            scope_descriptions=dict(oauth2.scope_descriptions),
            scope_separator=oauth2.scope_separator,
            token_auth_method=oauth2.token_auth_method,
            pkce=oauth2.pkce,
            authorize_params=dict(oauth2.authorize_params),
        )
        extra = tuple(f for f in fields if f.key not in {"access_token", "refresh_token"})
        return Auth.oauth2_bearer(config, extra_fields=extra)
    if spec.client_credentials is not None:
        grant = spec.client_credentials

        def flow(credentials: Mapping[str, Any]) -> httpx2.Auth:
            return ClientCredentialsAuth(
                token_url=render(grant.token_url, credentials),
                client_id=str(credentials.get("client_id", "")),
                client_secret=str(credentials.get("client_secret", "")),
                scopes=grant.scopes,
                scope_separator=grant.scope_separator,
                method=grant.token_auth_method,
            )

        return Auth(spec.type, fields=fields, flow=flow)
    if spec.basic is not None:
        basic = spec.basic
        apply = http_basic(lambda c: render(basic.username, c), lambda c: render(basic.password, c))
        if spec.placements:
            others = _placements(spec.placements)

            def both(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
                apply(request, credentials)
                others(request, credentials)

            return Auth(spec.type, fields=fields, apply=both)
        return Auth(spec.type, fields=fields, apply=apply)
    return Auth(spec.type, fields=fields, apply=_placements(spec.placements))


def _load_hooks(module: str | None) -> ModuleType | None:
    return importlib.import_module(module) if module else None


def _answer(response: httpx2.Response) -> Any:
    if not response.content:
        return {"status": response.status_code}
    content_type = response.headers.get("content-type", "")
    if "json" in content_type or not content_type:
        try:
            return response.json()
        except ValueError:
            if "json" in content_type:
                raise TransientError(
                    f"The app answered {response.status_code} with a body that is not JSON."
                ) from None
    return {"status": response.status_code, "body": response.text}


def _label(template: str, item: Mapping[str, Any]) -> str | None:
    """A choice's label, without the gaps a missing value leaves ("{name} {company}" of an
    address that has only a company)."""
    return " ".join(render(template, item).split()) or None


# Codes GraphQL servers put in an error's extensions (Apollo's, Linear's, Shopify's, GitHub's).
_EXPIRED_CODES = {
    "UNAUTHENTICATED",
    "AUTHENTICATION_ERROR",
    "INVALID_TOKEN",
    "ACCESS_TOKEN_INVALID",
}
_THROTTLED_CODES = {"RATELIMITED", "RATE_LIMITED", "THROTTLED", "TOO_MANY_REQUESTS"}


def raise_for_errors(answer: Any, path: Sequence[str]) -> None:
    """A refusal inside a successful answer (GraphQL's ``errors``), as the right error class:
    an authentication code means expired credentials, a rate-limit code throttling, the rest
    a halt with the app's own message."""
    errors = answer
    for part in path:
        errors = errors.get(part) if isinstance(errors, Mapping) else None
    if not isinstance(errors, list) or not errors:
        return
    first: Mapping[str, Any] = errors[0] if isinstance(errors[0], Mapping) else {}
    message = "; ".join(
        str(error.get("message") if isinstance(error, Mapping) else error) for error in errors[:3]
    )
    found = first.get("extensions")
    extensions: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    code = str(extensions.get("code") or first.get("type") or "").upper()
    meta = {"errors": len(errors), **({"code": code} if code else {})}
    if code in _EXPIRED_CODES:
        raise ExpiredAuthError(message, meta=meta)
    if code in _THROTTLED_CODES:
        raise ThrottledError(message, delay=DEFAULT_THROTTLE_DELAY, meta=meta)
    raise HaltError(message, meta=meta)


def _dig(data: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(data, Mapping) or part not in data:
            return data
        data = data[part]
    return data


@dataclass(slots=True)
class _Call:
    """What a run of one operation needs, and nothing more: a manifest's other parts (texts,
    samples, output fields) live in the App's actions, so the manifest itself is not kept
    (a large API's is tens of MB as objects)."""

    key: str
    title: str
    request: RequestSpec | None  # None: the runner performs it
    fields: list[InputField] = field(default_factory=list)
    files: tuple[str, ...] = ()  # the keys of its file fields
    # Its inputs as the action declares them: ``fields`` and sets of fields the runner lists.
    inputs: list[InputField | DynamicFields] = field(default_factory=list)


def _extracted(data: Any, extract: Mapping[str, str]) -> Any:
    """Each result with the outputs ``extract`` takes from deep inside it added on top."""
    if not extract:
        return data

    def add(item: Any) -> Any:
        if not isinstance(item, Mapping):
            return item
        return {**item, **{key: fill(template, item) for key, template in extract.items()}}

    return [add(item) for item in data] if isinstance(data, list) else add(data)


class DescribedApp:
    """The behaviour of a manifest's app: requests, connection test and dropdowns."""

    def __init__(self, manifest: AppManifest) -> None:
        self.key = manifest.key
        self.base_url = manifest.base_url
        self.transient_statuses = manifest.transient_statuses
        self.expired_when = manifest.expired_when
        self.test_spec = manifest.test
        self.hooks = _load_hooks(manifest.hook)
        self.runner = load_runner(self.hooks, manifest)
        self.calls: dict[str, _Call] = {}
        for operation in manifest.operations:
            files = tuple(spec.key for spec in operation.inputs if spec.type is FieldType.FILE)
            call = _Call(operation.key, operation.title, operation.request, files=files)
            call.inputs = [self._input(operation, spec) for spec in operation.inputs]
            call.fields = [item for item in call.inputs if isinstance(item, InputField)]
            self.calls[operation.key] = call

    def hook(self, name: str) -> Any:
        """The hook module's function ``name``, if it defines one."""
        return getattr(self.hooks, name, None) if self.hooks is not None else None

    def _input(self, operation: OperationSpec, spec: FieldSpec) -> InputField | DynamicFields:
        if spec.runner is not None and self.runner is not None:
            listed = RunnerFields(self.runner, operation.key)
            if spec.runner == "fields":
                return listed.expanding(spec)
            return input_field(spec, listed.choices(spec), spec.depends_on)
        if spec.dynamic is None:
            return input_field(spec)
        known = {field.key for field in operation.inputs}
        depends = [
            name
            for value in spec.dynamic.inputs.values()
            if isinstance(value, str)
            for name in placeholders(value)
            if name in known
        ]
        return input_field(spec, self._choices(spec.dynamic), depends)

    @staticmethod
    async def _files(
        ctx: Context, call: _Call, inputs: Mapping[str, Any]
    ) -> dict[str, FileContent]:
        if call.request is None or call.request.body != "multipart":
            return {}
        files = {}
        for key in call.files:
            value = inputs.get(key)
            if isinstance(value, str) and value:
                files[key] = await read_file(ctx, value)
        return files

    @staticmethod
    def _send_arguments(built: BuiltRequest) -> dict[str, Any]:
        headers = dict(built.headers)
        arguments: dict[str, Any] = {"params": built.params or None}
        if built.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in built.cookies.items())
        if built.has_json:
            arguments["json"] = built.json
        elif built.form is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            arguments["content"] = urlencode(built.form).encode()
        elif built.files is not None:
            # Plain values as parts without a file name: httpx then always sends multipart.
            plain = [(name, (None, value)) for name, value in built.multipart or []]
            arguments["files"] = plain + list(built.files)
        arguments["headers"] = headers
        return arguments

    async def call(self, ctx: Context, call: _Call, inputs: Mapping[str, Any]) -> Any:
        """Send the operation's request made of ``inputs``; its answer's result, or the right
        error class when the app refuses."""
        return (await self._exchange(ctx, call, inputs))[0]

    async def _exchange(
        self,
        ctx: Context,
        call: _Call,
        inputs: Mapping[str, Any],
        query: Sequence[tuple[str, str]] = (),
    ) -> tuple[Any, Any]:
        """The result of the operation's request and its whole answer; ``query`` replaces the
        request's query arguments of the same names (a next page's link)."""
        if call.request is None:
            raise HaltError(f"{call.title} is not an operation of this app's API")
        files = await self._files(ctx, call, inputs)
        built = build_request(call.request, inputs, ctx.credentials, files)
        if query:
            given = {name for name, _ in query}
            built.params = [pair for pair in built.params if pair[0] not in given] + list(query)
        url = base_url(call.request.base_url or self.base_url, ctx.credentials) + built.path
        request = ctx.http.build_request(built.method, url, **self._send_arguments(built))
        before = self.hook("before_request")
        if before is not None:
            before(ctx, call.key, request)
        response = await ctx.http.send(request)
        self._raise_if_expired(response)
        raise_for_status(response, transient=self.transient_statuses)
        answer = file_answer(response) if call.request.answer_file else _answer(response)
        if call.request.errors:
            raise_for_errors(answer, call.request.errors)
        data = _extracted(_dig(answer, call.request.results), call.request.extract)
        after = self.hook("after_response")
        if after is not None:
            data = after(ctx, call.key, response, data)
        return data, answer

    def _raise_if_expired(self, response: httpx2.Response) -> None:
        for expired in self.expired_when:
            if response.status_code == expired.status and expired.contains in response.text:
                meta = {"status": response.status_code}
                raise ExpiredAuthError(error_message(response), meta=meta)

    def performer(self, key: str) -> Callable[[Context, Mapping[str, Any]], Any]:
        call = self.calls[key]
        runner = self.runner

        async def perform(ctx: Context, inputs: Mapping[str, Any]) -> PerformResult:
            if call.request is None and runner is not None:
                done: PerformResult = await runner.perform(ctx, key, inputs)
                return done
            result: PerformResult = await self.call(ctx, call, inputs)
            return result

        perform.__qualname__ = f"{self.key}.{key}"
        return perform

    async def _call_with(
        self,
        ctx: Context,
        call: _Call,
        values: Mapping[str, Any],
        query: Sequence[tuple[str, str]] = (),
    ) -> tuple[Any, Any]:
        """The operation run with ``values`` (a dropdown's or the test's): its result and its
        whole answer."""
        given = {key: value for key, value in values.items() if value is not None}
        try:
            inputs = validate_inputs(call.fields, given)
        except Exception as exc:
            raise HaltError(f"{call.title}: {exc}") from None
        return await self._exchange(ctx, call, inputs, query)

    async def _linked_page(
        self, ctx: Context, spec: DynamicChoicesSpec, values: dict[str, Any], page: int
    ) -> tuple[Any, bool]:
        """Page ``page`` of a list whose answers link the next page: each answer's link is
        followed from the first (the link's query, never its host or path)."""
        source = self.calls[spec.operation]
        query: list[tuple[str, str]] = []
        for number in range(page + 1):
            data, answer = await self._call_with(ctx, source, values, query)
            link = lookup(answer, spec.next or "")
            if number == page:
                return data, bool(link)
            if not link:
                return [], False
            text = str(link)
            if "?" in text or text.startswith(("https://", "http://", "/")):
                query = parse_qsl(urlsplit(text).query, keep_blank_values=True)
            elif spec.page_input is not None:
                values = {**values, spec.page_input: text}  # a bare cursor
            else:
                return [], False
        return [], False

    def _choices(self, spec: DynamicChoicesSpec) -> Callable[..., Any]:
        async def choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
            source = self.calls[spec.operation]
            values = dict(render_value(spec.inputs, inputs))
            if spec.page_size_input is not None:
                values[spec.page_size_input] = spec.page_size
            if spec.page_style == "next":
                data, has_more = await self._linked_page(ctx, spec, values, page)
            else:
                if spec.page_input is not None:
                    values[spec.page_input] = (
                        spec.first_page + page
                        if spec.page_style == "page"
                        else spec.first_page + page * spec.page_size
                    )
                data = (await self._call_with(ctx, source, values))[0]
                full = isinstance(data, list) and len(data) >= spec.page_size
                has_more = spec.page_input is not None and full
            items = data if isinstance(data, list) else [data]
            listed = [
                Choice(render(spec.value, item), _label(spec.label, item) if spec.label else None)
                for item in items
                if isinstance(item, Mapping)
                and all(lookup(item, path) == wanted for path, wanted in spec.where.items())
            ]
            return ChoicePage(listed, has_more=has_more)

        return choices

    async def test(self, ctx: Context) -> str | None:
        own = self.hook("test") or (self.runner.test if self.runner is not None else None)
        if own is not None:
            label: str | None = await own(ctx)
            return label
        test = self.test_spec
        if test is None:
            return None
        call = self.calls[test.operation]
        data, _ = await self._call_with(ctx, call, render_value(test.inputs, ctx.credentials))
        item = data[0] if isinstance(data, list) and data else data
        if test.label is None or not isinstance(item, Mapping):
            return None
        return render(test.label, item) or None


def _limits(manifest: AppManifest) -> Limits | None:
    spec = manifest.limits
    if spec is None:
        return None
    rate = RateLimit(spec.rate.runs, spec.rate.seconds) if spec.rate else None
    return Limits(concurrency=spec.concurrency, rate=rate, per=spec.per)


def build_app(manifest: AppManifest, *, fixtures: Path | None = None) -> App:
    """The ``App`` a manifest describes."""
    described = DescribedApp(manifest)
    actions = [
        Action(
            key=operation.key,
            title=operation.title,
            description=operation.description,
            perform=described.performer(operation.key),
            type=operation.type,
            inputs=described.calls[operation.key].inputs,
            outputs=[
                OutputField(o.key, o.label, o.type, sample_value(operation.sample, o.key)[1])
                for o in operation.outputs
            ],
            sample=operation.sample,
            timeout=operation.timeout,
        )
        for operation in manifest.actions
    ]
    has_test = (
        manifest.test is not None
        or described.hook("test") is not None
        or (described.runner is not None and manifest.auth.type is not AuthType.NONE)
    )
    return App(
        key=manifest.key,
        title=manifest.title,
        description=manifest.description,
        auth=build_auth(manifest.auth),
        actions=actions,
        categories=manifest.categories,
        test=described.test if has_test else None,
        limits=_limits(manifest),
        hex_color=manifest.hex_color,
        icon=manifest.icon,
        source=manifest.source.kind if manifest.source.kind != "manifest" else "openapi",
        fixtures=fixtures,
    )
