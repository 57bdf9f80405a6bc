"""slack.com emulated at the HTTP level, checking every request against Slack's published
Web API description (../shared/reference/vendors/slack-web-api.openapi.json).

A request that breaks the description (unknown method or parameter, missing required one,
wrong type, wrong content type, no token) is answered the way Slack answers it and recorded
in ``violations``; tests assert there are none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx2

from tests.vendors import load_vendor_spec

SPEC = load_vendor_spec("slack-web-api.openapi.json")
TOKEN = "xoxb-test-token"


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
        checked = self._check(request)
        if checked is None:
            return httpx2.Response(200, json={"ok": False, "error": "invalid_arguments"})
        if self.scripted:
            status, body, headers = self.scripted.pop(0)
            return httpx2.Response(status, json=body, headers=headers)
        if request.headers["authorization"] != f"Bearer {self.token}":
            return httpx2.Response(200, json={"ok": False, "error": "invalid_auth"})
        method, arguments = checked
        answer = getattr(self, "_" + method.strip("/").replace(".", "_"))
        return httpx2.Response(200, json={"ok": True, **answer(arguments)})

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
