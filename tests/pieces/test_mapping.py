"""A piece's props and auth as our fields: every type the issue lists, and real pieces."""

from __future__ import annotations

from typing import Any

from actionruns.pieces.install import describe
from actionruns.pieces.mapping import decode_choice, encode_choice, piece_manifest
from actionruns.sdk.auth import AuthType
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.fields import DynamicFields, FieldType
from tests.pieces.conftest import FIXTURE_PIECE, installed_piece


def test_choice_values_round_trip_whatever_their_type() -> None:
    for value in ["plain", 3, 2.5, True, None, {"id": 1}, [1, "a"], "json:looks-encoded"]:
        assert decode_choice(encode_choice(value)) == value
    assert encode_choice("C024BE91L") == "C024BE91L"  # ids stay readable


async def test_every_prop_type_maps_onto_a_field(fixture_manifest: AppManifest) -> None:
    echo = fixture_manifest.operation("echo")
    assert echo is not None and echo.source == "echo" and echo.request is None
    fields = {spec.key: spec for spec in echo.inputs}
    assert "intro" not in fields  # markdown is help, not an input
    assert "Read **this** first." in echo.description
    types = {key: (spec.type, spec.list) for key, spec in fields.items()}
    assert types == {
        "title": (FieldType.STRING, False),
        "body": (FieldType.TEXT, False),
        "count": (FieldType.NUMBER, False),
        "urgent": (FieldType.BOOLEAN, False),
        "when": (FieldType.DATETIME, False),
        "level": (FieldType.STRING, False),
        "tags": (FieldType.STRING, True),
        "extra": (FieldType.JSON, False),
        "headers": (FieldType.DICT, False),
        "names": (FieldType.STRING, True),
        "rows": (FieldType.JSON, False),
        "attachment": (FieldType.FILE, False),
        "channel": (FieldType.STRING, False),
        "fields": (FieldType.JSON, False),
    }
    assert [(c.value, c.label) for c in fields["level"].choices] == [
        ("json:1", "Low"),
        ("json:2", "High"),
    ]
    assert fields["title"].required and fields["count"].default == 3
    assert (fields["channel"].runner, fields["channel"].depends_on) == ("choices", ("title",))
    assert (fields["fields"].runner, fields["fields"].depends_on) == ("fields", ("title",))
    assert "name" in fields["rows"].help_text

    app = build_app(fixture_manifest)
    assert app.source == "activepieces"
    action = app.action("echo")
    assert action is not None and action.has_dynamic_inputs
    assert any(isinstance(item, DynamicFields) and item.key == "fields" for item in action.inputs)
    assert app.action("find_thing") is not None  # keys snake-cased
    assert app.action("odd") is None  # a prop no field can be: left out


async def test_auth_is_one_of_our_credential_kinds(fixture_description: dict[str, Any]) -> None:
    report = piece_manifest("fixture", fixture_description, FIXTURE_PIECE)
    assert report.skipped == [("odd", "prop x is of type CUSTOM")]
    auth = report.manifest.auth
    assert auth.type is AuthType.CUSTOM
    assert [(f.key, f.name, f.type, f.secret) for f in auth.fields] == [
        ("api_key", "apiKey", FieldType.PASSWORD, True),
        ("region", "region", FieldType.STRING, False),
    ]
    piece = report.manifest.piece
    assert piece is not None and (piece.auth_type, piece.typed_auth) == ("CUSTOM_AUTH", True)


async def test_real_pieces_from_the_registry_map() -> None:
    slack = installed_piece("slack", "0.17.9")
    assert slack.integrity.startswith("sha512-")
    report = piece_manifest("slack_piece", await describe(slack), slack)
    manifest = report.manifest
    assert report.auths == ["OAUTH2", "CUSTOM_AUTH"]
    assert manifest.auth.type is AuthType.OAUTH2 and manifest.auth.oauth2 is not None
    assert manifest.auth.oauth2.token_url == "https://slack.com/api/oauth.v2.access"
    assert report.skipped == []
    assert len(manifest.actions) == 72
    send = manifest.operation("send_channel_message")
    assert send is not None
    channel = next(spec for spec in send.inputs if spec.key == "channel")
    assert channel.runner == "choices"
    build_app(manifest)

    custom = piece_manifest("slack_piece", await describe(slack), slack, auth_index=1).manifest
    assert [f.name for f in custom.auth.fields] == ["botToken", "userToken"]

    hackernews = installed_piece("hackernews", "0.2.0")
    old = piece_manifest("hackernews", await describe(hackernews), hackernews).manifest
    assert old.auth.type is AuthType.NONE and old.piece is not None
    assert not old.piece.typed_auth
    assert [op.key for op in old.actions] == ["fetch_top_stories"]

    asana = installed_piece("asana", "0.2.0")  # its connection is a prop of each action
    with_prop = piece_manifest("asana", await describe(asana), asana).manifest
    assert with_prop.auth.type is AuthType.OAUTH2 and with_prop.piece is not None
    assert with_prop.piece.auth_prop == "authentication"
    assert [f.key for f in with_prop.actions[0].inputs] == ["workspace", "project", "name", "notes"]
