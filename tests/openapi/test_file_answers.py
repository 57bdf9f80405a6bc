"""An operation that answers a file (a translated document, speech, a PDF) gives it back as a
``data:`` URI, which another action's file field takes, with its name, type and size."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx2
import pytest

from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.errors import HaltError
from actionruns.sdk.fields import FieldType
from actionruns.sdk.files import MAX_ANSWER_FILE_BYTES
from tests.openapi.test_requests import Vendor, manifest_of, perform


def documents_api(answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Documents", "version": "1"},
        "servers": [{"url": "https://api.docs.example.com"}],
        "security": [{"key": []}],
        "components": {"securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/documents/{id}/result": {
                "post": {
                    "operationId": "downloadDocument",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"description": "the document", "content": answer}},
                }
            }
        },
    }


BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


@pytest.mark.parametrize(
    "answer",
    [BINARY, {"application/pdf": {}}, {"audio/mpeg": {}}],
    ids=["binary", "pdf", "audio"],
)
def test_a_file_answer_is_described_as_a_file(tmp_path: Path, answer: dict[str, Any]) -> None:
    operation = manifest_of(tmp_path, {}, documents_api(answer)).operation("download_document")
    assert operation is not None and operation.http.answer_file
    assert [(o.key, o.type) for o in operation.outputs] == [
        ("file", FieldType.FILE),
        ("filename", FieldType.STRING),
        ("content_type", FieldType.STRING),
        ("size", FieldType.INTEGER),
    ]
    assert operation.sample["file"].startswith("data:")


def test_a_text_answer_is_not_a_file(tmp_path: Path) -> None:
    answer = {"text/plain": {"schema": {"type": "string"}}}
    operation = manifest_of(tmp_path, {}, documents_api(answer)).operation("download_document")
    assert operation is not None and not operation.http.answer_file


async def test_the_file_comes_back_as_a_data_uri_with_its_name(tmp_path: Path) -> None:
    app = build_app(manifest_of(tmp_path, {}, documents_api(BINARY)))
    content = b"PK\x03\x04 a docx"
    headers = {
        "content-type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "content-disposition": "attachment; filename*=UTF-8''Br%C3%BCcke.docx",
    }
    vendor = Vendor(lambda request: httpx2.Response(200, headers=headers, content=content))
    result = await perform(app, "download_document", {"id": "d-1"}, vendor)
    assert result == {
        "file": f"data:{headers['content-type']};name=Br%C3%BCcke.docx;base64,"
        + base64.b64encode(content).decode(),
        "filename": "Brücke.docx",
        "content_type": headers["content-type"],
        "size": len(content),
    }
    # Without a name, one from its type.
    vendor = Vendor(lambda request: httpx2.Response(200, headers={"content-type": "audio/mpeg"}))
    result = await perform(app, "download_document", {"id": "d-1"}, vendor)
    assert result["filename"] == "file.mp3"


async def test_a_file_too_large_for_a_result_halts_and_says_so(tmp_path: Path) -> None:
    app = build_app(manifest_of(tmp_path, {}, documents_api(BINARY)))
    big = b"x" * (MAX_ANSWER_FILE_BYTES + 1)
    vendor = Vendor(lambda request: httpx2.Response(200, content=big))
    with pytest.raises(HaltError, match=r"at most 2\.5 MB"):
        await perform(app, "download_document", {"id": "d-1"}, vendor)
