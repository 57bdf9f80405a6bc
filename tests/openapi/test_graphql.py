"""GraphQL schemas imported like OpenAPI descriptions: root fields made actions, their
documents valid against the schema, variables from fields, answers unwrapped, and the
refusals a GraphQL server sends in a 200 mapped to the error classes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from graphql import build_schema, parse, validate

from actionruns.openapi import ImportFailed, import_description
from actionruns.openapi.overlay import Overlay
from actionruns.sdk.app import ActionType
from actionruns.sdk.auth import AuthType
from actionruns.sdk.described.manifest import AppManifest, OperationSpec
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.errors import ExpiredAuthError, HaltError, ThrottledError
from actionruns.sdk.fields import FieldType
from actionruns.sdk.fixtures import perform_with_fields
from tests.openapi.test_requests import vendor_context

SDL = '''
"""A date and time"""
scalar DateTime
scalar JSON

enum Priority { LOW HIGH URGENT OLD @deprecated(reason: "gone") }

type Query {
  "The signed-in user."
  viewer: User!
  "Tasks, a page at a time."
  tasks(first: Int = 50, after: String, filter: TaskFilter): TaskConnection!
  task(id: ID!): Task
  search(term: String!): [SearchResult!]!
  legacy: String @deprecated(reason: "use tasks")
}

type Mutation {
  "Creates a task."
  taskCreate(input: TaskCreateInput!): TaskPayload!
  taskArchive(id: ID!, reason: String @deprecated(reason: "ignored")): TaskPayload!
}

input TaskFilter { title: StringComparator, and: [TaskFilter!] }
input StringComparator { eq: String, contains: String }
input TaskCreateInput {
  "The task's title."
  title: String!
  priority: Priority = LOW
  labels: [String!]
  dueAt: DateTime
  meta: JSON
  assignee: AssigneeInput
}
input AssigneeInput { id: ID!, notify: Boolean }

type User { id: ID! name: String! email: String! tasks(first: Int!): TaskConnection! }
type Task { id: ID! title: String! priority: Priority! owner: User doneAt: DateTime }
type TaskConnection { nodes: [Task!]! pageInfo: PageInfo! }
type PageInfo { hasNextPage: Boolean! endCursor: String }
type TaskPayload { success: Boolean! task: Task lastSyncId: Float! }
union SearchResult = Task | User
'''

ENDPOINT = "https://api.tasks.example/graphql"
OVERLAY = {
    "title": "Tasks",
    "auth": {"schemes": {"key": {"type": "http", "scheme": "bearer"}}, "scheme": "key"},
}


def imported(tmp_path: Path, overlay: dict[str, Any] | None = None) -> AppManifest:
    (tmp_path / "tasks.graphql").write_text(SDL)
    rules = Overlay.model_validate(overlay if overlay is not None else OVERLAY)
    return import_description(tmp_path / "tasks.graphql", overlay=rules, base_url=ENDPOINT).manifest


def op(manifest: AppManifest, key: str) -> OperationSpec:
    found = manifest.operation(key)
    assert found is not None, [o.key for o in manifest.operations]
    return found


def document_of(operation: OperationSpec) -> str:
    return str(next(b.value for b in operation.http.bindings if b.path == ("query",)))


def test_root_fields_become_actions_with_valid_documents(tmp_path: Path) -> None:
    manifest = imported(tmp_path)
    assert manifest.source.kind == "graphql"
    assert {o.key for o in manifest.actions} == {
        "viewer",
        "tasks",
        "task",
        "search",
        "task_create",
        "task_archive",
    }
    types = {o.key: o.type for o in manifest.actions}
    assert types["tasks"] is ActionType.SEARCH and types["task"] is ActionType.READ
    assert types["task_create"] is ActionType.WRITE
    assert op(manifest, "task_create").title == "Create task"
    assert op(manifest, "task_create").description == "Creates a task."
    schema = build_schema(SDL)
    for operation in manifest.actions:
        errors = validate(schema, parse(document_of(operation)))
        assert errors == [], (operation.key, document_of(operation), errors)
    assert document_of(op(manifest, "task_archive")) == (
        "mutation TaskArchive($id: ID!) { taskArchive(id: $id) { lastSyncId success "
        "task { id title doneAt priority } } }"
    )


def test_arguments_become_typed_fields(tmp_path: Path) -> None:
    create = op(imported(tmp_path), "task_create")
    fields = {f.key: f for f in create.inputs}
    # The single input object is unwrapped: its fields are the action's.
    assert fields["title"].required and fields["title"].help_text == "The task's title."
    assert [c.value for c in fields["priority"].choices] == ["LOW", "HIGH", "URGENT"]
    assert fields["priority"].default == "LOW"
    assert fields["labels"].list
    assert fields["due_at"].type is FieldType.DATETIME
    assert fields["meta"].type is FieldType.JSON
    assert fields["assignee__id"].required is False  # the object itself is optional
    binding = next(b for b in create.http.bindings if b.field == "assignee__id")
    assert binding.path == ("variables", "input", "assignee", "id")
    tasks = {f.key: f for f in op(imported(tmp_path), "tasks").inputs}
    assert tasks["first"].default == 50
    assert tasks["filter__title__contains"].type is FieldType.STRING


def test_answers_are_unwrapped_to_the_field_and_a_connection_to_its_nodes(tmp_path: Path) -> None:
    manifest = imported(tmp_path)
    assert op(manifest, "tasks").http.results == ("data", "tasks", "nodes")
    assert {o.key for o in op(manifest, "tasks").outputs} >= {"id", "title", "owner__email"}
    assert op(manifest, "task_create").http.results == ("data", "taskCreate")
    assert op(manifest, "viewer").http.errors == ("errors",)
    assert manifest.test is not None and manifest.test.operation == "viewer"
    assert manifest.auth.type is AuthType.API_KEY


class Server:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        assert request.url == ENDPOINT and request.method == "POST"
        assert request.headers["authorization"] == "Bearer key-1"
        self.bodies.append(json.loads(request.content))
        return httpx2.Response(200, json=self.answer)


async def perform(
    manifest: AppManifest, action: str, inputs: dict[str, Any], server: Server
) -> Any:
    app = build_app(manifest)
    found = app.action(action)
    assert found is not None
    async with vendor_context(app, server, {"api_key": "key-1"}) as ctx:
        return await perform_with_fields(found, ctx, inputs)


async def test_a_run_posts_the_document_and_its_variables(tmp_path: Path) -> None:
    manifest = imported(tmp_path)
    task = {"id": "t1", "title": "Ship it", "priority": "HIGH", "doneAt": None}
    server = Server({"data": {"taskCreate": {"success": True, "lastSyncId": 3.0, "task": task}}})
    inputs = {"title": "Ship it", "priority": "HIGH", "labels": ["a"], "assignee__id": "u1"}
    result = await perform(manifest, "task_create", inputs, server)
    assert result == {"success": True, "lastSyncId": 3.0, "task": task}
    body = server.bodies[-1]
    assert body["query"] == document_of(op(manifest, "task_create"))
    assert body["variables"] == {
        "input": {"title": "Ship it", "priority": "HIGH", "labels": ["a"], "assignee": {"id": "u1"}}
    }
    listed = Server({"data": {"tasks": {"nodes": [task], "pageInfo": {"hasNextPage": False}}}})
    assert await perform(manifest, "tasks", {}, listed) == [task]
    assert listed.bodies[-1]["variables"] == {"first": 50}


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (
            {"message": "Authentication required", "extensions": {"code": "UNAUTHENTICATED"}},
            ExpiredAuthError,
        ),
        ({"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}, ThrottledError),
        ({"message": "Throttled", "extensions": {"code": "THROTTLED"}}, ThrottledError),
        ({"message": "Entity not found", "extensions": {"code": "INVALID_INPUT"}}, HaltError),
        ({"message": "Could not resolve to a node", "type": "NOT_FOUND"}, HaltError),
    ],
)
async def test_errors_in_a_200_are_refusals(
    tmp_path: Path, error: dict[str, Any], raised: type[Exception]
) -> None:
    server = Server({"data": None, "errors": [error]})
    with pytest.raises(raised, match=error["message"]):
        await perform(imported(tmp_path), "task", {"id": "t9"}, server)


def test_an_overlay_chooses_operations_and_a_selection(tmp_path: Path) -> None:
    overlay = {
        **OVERLAY,
        "operations": ["mutation taskCreate", "query viewer"],
        "actions": {"taskCreate": {"key": "create_task", "selection": "{ task { id title } }"}},
        "test": {"operation": "viewer", "label": "{name}"},
    }
    manifest = imported(tmp_path, overlay)
    assert [o.key for o in manifest.actions] == ["viewer", "create_task"]
    create = op(manifest, "create_task")
    assert document_of(create).endswith("taskCreate(input: $input) { task { id title } } }")
    assert validate(build_schema(SDL), parse(document_of(create))) == []


def test_not_a_schema_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "bad.graphql").write_text("type Query { broken: }")
    with pytest.raises(ImportFailed, match=r"bad\.graphql is not a GraphQL schema"):
        import_description(tmp_path / "bad.graphql", base_url=ENDPOINT)
    (tmp_path / "schema.graphql").write_text(SDL)
    with pytest.raises(ImportFailed, match="--base-url"):
        import_description(tmp_path / "schema.graphql")
