"""slack.com emulated at the HTTP level, checking every request against Slack's published
Web API description (../shared/reference/vendors/slack-web-api.openapi.json).

A request that breaks the description (unknown method or parameter, missing required one,
wrong type, wrong content type, no token) is answered the way Slack answers it and recorded
in ``violations``; tests assert there are none.

With ``oauth_client`` set it is also Slack's OAuth v2 with token rotation
(https://api.slack.com/authentication/oauth-v2, /authentication/rotation): ``consent`` is the
user allowing the app at slack.com/oauth/v2/authorize, ``oauth.v2.access`` exchanges the code
for a bot token and the user's token (``authed_user``), and refreshes them, expiring in 12 h.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import httpx2

from tests.vendors import load_vendor_spec

SPEC = load_vendor_spec("slack-web-api.openapi.json")
TOKEN = "xoxb-test-token"
AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
# oauth.v2.access's arguments beyond the description's (written before token rotation):
# grant_type and refresh_token, documented on https://api.slack.com/methods/oauth.v2.access.
ROTATION_ARGUMENTS = {"grant_type", "refresh_token"}
ROTATED_SECONDS = 43200  # a rotated token lasts 12 hours


def _type_ok(kind: str | None, value: Any, *, from_json: bool) -> bool:
    if kind == "boolean":
        return isinstance(value, bool) if from_json else value in ("true", "false", "1", "0")
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.isdigit()
        )
    return isinstance(value, str) or (from_json and isinstance(value, list | dict))


@dataclass
class SlackEmulator:
    token: str = TOKEN
    channels: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"id": f"C{index:08d}", "name": f"channel-{index}", "is_archived": False}
            for index in range(250)
        ]
    )
    users: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "ada@example.com": {
                "id": "U00000001",
                "name": "ada",
                "real_name": "Ada Lovelace",
                "tz": "Europe/London",
                "profile": {"email": "ada@example.com", "real_name": "Ada Lovelace"},
            }
        }
    )
    messages: list[dict[str, Any]] = field(default_factory=list)
    requests: list[httpx2.Request] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    # Answers to give before the normal ones: (status, json body, headers).
    scripted: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    # OAuth v2: the app's (client id, secret); codes given at consent, by redirect URI;
    # access tokens issued (any of them, or ``token``, is good) and refresh tokens still good.
    oauth_client: tuple[str, str] | None = None
    codes: dict[str, str] = field(default_factory=dict)
    issued: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def fail_next(
        self, status: int = 200, error: str = "", headers: Mapping[str, str] | None = None
    ) -> None:
        body: dict[str, Any] = {"ok": False, "error": error} if error else {"ok": False}
        self.scripted.append((status, body, dict(headers or {})))

    # -- checking against the description -------------------------------------------------

    def _check(self, request: httpx2.Request) -> tuple[str, dict[str, Any]] | None:
        """The method and its arguments, or None after recording what is wrong."""
        path = request.url.path
        if request.url.host != "slack.com" or not path.startswith(SPEC["basePath"] + "/"):
            self.violations.append(f"not a Web API URL: {request.url}")
            return None
        method = path[len(SPEC["basePath"]) :]
        described = SPEC["paths"].get(method, {})
        operation = described.get(request.method.lower())
        if operation is None and request.method == "POST":
            # Every method takes its arguments as a POST form too, "GET" ones included
            # (https://api.slack.com/web, "Basics"): Slack's own clients always POST.
            operation = described.get("get")
        if operation is None:
            self.violations.append(f"{request.method} {method} is not in the description")
            return None
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            self.violations.append(f"{method}: no bearer token")
            return None
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        from_json = content_type == "application/json"
        if request.method == "GET":
            arguments: dict[str, Any] = dict(request.url.params)
            if request.content:
                self.violations.append(f"{method}: a GET with a body")
        elif from_json:
            arguments = json.loads(request.content or b"{}")
        else:
            arguments = dict(parse_qsl(request.content.decode()))
        if content_type and content_type not in operation.get("consumes", []):
            self.violations.append(f"{method}: content type {content_type} is not accepted")
        documented = {p["name"]: p for p in operation.get("parameters", [])}
        for name, value in arguments.items():
            spec = documented.get(name)
            if spec is None or name == "token":
                self.violations.append(f"{method}: undocumented argument {name!r}")
            elif not _type_ok(spec.get("type"), value, from_json=from_json):
                self.violations.append(f"{method}: {name}={value!r} is not a {spec.get('type')}")
        for name, spec in documented.items():
            if spec.get("required") and name != "token" and name not in arguments:
                self.violations.append(f"{method}: missing required argument {name!r}")
        return method, arguments

    # -- answering ---------------------------------------------------------------------------

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if request.url.path == SPEC["basePath"] + "/oauth.v2.access":
            return httpx2.Response(200, json=self._oauth_v2_access(request))
        checked = self._check(request)
        if checked is None:
            return httpx2.Response(200, json={"ok": False, "error": "invalid_arguments"})
        if self.scripted:
            status, body, headers = self.scripted.pop(0)
            return httpx2.Response(status, json=body, headers=headers)
        if request.headers["authorization"] not in {
            f"Bearer {t}" for t in {self.token, *self.issued}
        }:
            return httpx2.Response(200, json={"ok": False, "error": "invalid_auth"})
        method, arguments = checked
        answer = getattr(self, "_" + method.strip("/").replace(".", "_"))
        return httpx2.Response(200, json={"ok": True, **answer(arguments)})

    # -- OAuth v2 ------------------------------------------------------------------------------

    def consent(self, authorize_url: str) -> str:
        """The user allows the app at ``authorize_url``: where Slack sends the browser back
        (the redirect URI with a code and the state). The URL is checked as Slack reads it."""
        assert self.oauth_client is not None
        parts = urlsplit(authorize_url)
        if f"{parts.scheme}://{parts.netloc}{parts.path}" != AUTHORIZE_URL:
            self.violations.append(f"not Slack's authorization URL: {authorize_url}")
        asked = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if asked.get("client_id") != self.oauth_client[0]:
            self.violations.append(f"authorize: client_id {asked.get('client_id')!r}")
        if not asked.get("scope") and not asked.get("user_scope"):
            self.violations.append("authorize: neither scope nor user_scope")
        if not asked.get("redirect_uri", "").startswith(("https://", "http://127.0.0.1")):
            self.violations.append(f"authorize: redirect_uri {asked.get('redirect_uri')!r}")
        code = secrets.token_hex(8)
        self.codes[code] = asked.get("redirect_uri", "")
        back = urlencode({"code": code, "state": asked.get("state", "")})
        return f"{asked.get('redirect_uri')}?{back}"

    def _issue(self, kind: str) -> tuple[str, str]:
        access = f"xoxe.xox{kind}-1-{secrets.token_hex(8)}"
        refresh = f"xoxe-1-{secrets.token_hex(8)}"
        self.issued.add(access)
        self.refresh_tokens.add(refresh)
        return access, refresh

    def _oauth_v2_access(self, request: httpx2.Request) -> dict[str, Any]:
        """The code exchanged, or a refresh token rotated; the client authenticated by HTTP
        Basic or in the form, as Slack takes it."""
        form = dict(parse_qsl(request.content.decode()))
        self.token_requests.append(form)
        documented = {p["name"] for p in SPEC["paths"]["/oauth.v2.access"]["get"]["parameters"]}
        for name in sorted(set(form) - documented - ROTATION_ARGUMENTS):
            self.violations.append(f"oauth.v2.access: undocumented argument {name!r}")
        client = (form.get("client_id"), form.get("client_secret"))
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            client = (client_id, secret)
        if self.oauth_client is None or client != self.oauth_client:
            return {"ok": False, "error": "invalid_client_id"}
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return {"ok": False, "error": "invalid_refresh_token"}
            self.refresh_tokens.discard(form["refresh_token"])  # rotated: good once
            access, refresh = self._issue("b")
            return self._bot_token(access, refresh)
        if self.codes.pop(form.get("code", ""), None) != form.get("redirect_uri"):
            return {"ok": False, "error": "invalid_code"}
        access, refresh = self._issue("b")
        user_access, user_refresh = self._issue("p")
        authed_user = {
            "id": "U00000001",
            "scope": "chat:write,search:read",
            "access_token": user_access,
            "token_type": "user",
            "refresh_token": user_refresh,
            "expires_in": ROTATED_SECONDS,
        }
        return {**self._bot_token(access, refresh), "authed_user": authed_user}

    @staticmethod
    def _bot_token(access: str, refresh: str) -> dict[str, Any]:
        return {
            "ok": True,
            "access_token": access,
            "token_type": "bot",
            "scope": "chat:write,channels:read",
            "bot_user_id": "U0BOT",
            "app_id": "A0KRD7HC3",
            "team": {"name": "Example Co", "id": "T0001"},
            "enterprise": None,
            "is_enterprise_install": False,
            "expires_in": ROTATED_SECONDS,
            "refresh_token": refresh,
        }

    # -- methods -----------------------------------------------------------------------------

    def _auth_test(self, _arguments: Mapping[str, Any]) -> dict[str, Any]:
        return {"team": "Example Co", "user": "deploy-bot", "team_id": "T0001", "user_id": "U0BOT"}

    def _conversations_list(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        start = int(arguments.get("cursor") or 0)
        limit = int(arguments.get("limit") or 100)
        page = self.channels[start : start + limit]
        more = start + limit < len(self.channels)
        return {
            "channels": page,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _chat_postMessage(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        if arguments["channel"] not in {channel["id"] for channel in self.channels}:
            return {"ok": False, "error": "channel_not_found"}
        ts = f"1700000000.{len(self.messages) + 1:06d}"
        message = {"type": "message", "ts": ts, **arguments}
        self.messages.append(message)
        return {"channel": arguments["channel"], "ts": ts, "message": message}

    def _chat_update(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        message = next((m for m in self.messages if m["ts"] == arguments["ts"]), None)
        if message is None or message["channel"] != arguments["channel"]:
            return {"ok": False, "error": "message_not_found"}
        message.update(arguments)
        return {"channel": message["channel"], "ts": message["ts"], "text": message.get("text")}

    def _reactions_add(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        message = next((m for m in self.messages if m["ts"] == arguments["timestamp"]), None)
        if message is None or message["channel"] != arguments["channel"]:
            return {"ok": False, "error": "message_not_found"}
        reactions = message.setdefault("reactions", [])
        if arguments["name"] in reactions:
            return {"ok": False, "error": "already_reacted"}
        reactions.append(arguments["name"])
        return {}

    def _conversations_open(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        known = {user["id"] for user in self.users.values()}
        if arguments.get("users") not in known:
            return {"ok": False, "error": "user_not_found"}
        channel = {"id": "D" + arguments["users"][1:], "is_im": True}
        if channel["id"] not in {c["id"] for c in self.channels}:
            self.channels.append(channel)
        return {"channel": {"id": channel["id"]}}

    def _conversations_create(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        if any(c.get("name") == arguments["name"] for c in self.channels):
            return {"ok": False, "error": "name_taken"}
        channel = {
            "id": f"C{len(self.channels):08d}",
            "name": arguments["name"],
            "is_private": arguments.get("is_private", False),
            "created": 1700000000,
            "is_archived": False,
        }
        self.channels.append(channel)
        return {"channel": channel}

    def _users_list(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        return {"members": list(self.users.values()), "response_metadata": {"next_cursor": ""}}

    def _users_lookupByEmail(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        user = self.users.get(arguments["email"])
        return {"user": user} if user else {"ok": False, "error": "users_not_found"}
