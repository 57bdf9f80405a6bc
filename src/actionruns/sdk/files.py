"""Files in and out: what a user gives for a file (a URL, a ``data:`` URI or plain text),
read; and a file an app answers, given back as a ``data:`` URI.

A URL is downloaded through the connector's guarded HTTP client *without* the connection's
credentials (they belong to the app, not to whoever serves the file), and capped in size.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from email.message import Message
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, unquote, urlsplit

import httpx2

from actionruns.sdk.errors import HaltError

if TYPE_CHECKING:
    from actionruns.sdk.context import Context

MAX_FILE_BYTES = 25 * 1024 * 1024
_DATA_URI = re.compile(
    r"data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[^;,]*)*),(?P<data>.*)", re.S
)


class FileContent(NamedTuple):
    filename: str
    content: bytes
    content_type: str


def _from_data_uri(value: str) -> FileContent | None:
    match = _DATA_URI.fullmatch(value)
    if match is None:
        return None
    content_type = match.group("type") or "text/plain"
    params = match.group("params").split(";")
    name = next((p[5:] for p in params if p.startswith("name=")), "")
    data = match.group("data")
    if "base64" in params:
        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise HaltError("The file's data: URI is not valid base64.") from None
    else:
        content = unquote(data).encode()
    extension = mimetypes.guess_extension(content_type) or ""
    return FileContent(unquote(name) or f"file{extension}", content, content_type)


async def read_file(ctx: Context, value: str, *, max_bytes: int = MAX_FILE_BYTES) -> FileContent:
    """The file a user gave as ``value``."""
    data_uri = _from_data_uri(value) if value.startswith("data:") else None
    if data_uri is not None:
        content = data_uri
    elif value.startswith(("https://", "http://")):
        content = await _download(ctx, value, max_bytes)
    else:
        content = FileContent("file.txt", value.encode(), "text/plain")
    if len(content.content) > max_bytes:
        raise HaltError(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
    return content


async def _download(ctx: Context, url: str, max_bytes: int) -> FileContent:
    chunks: list[bytes] = []
    size = 0
    # auth=None: the connection's credentials never go to the file's host.
    async with ctx.http.stream("GET", url, auth=None) as response:
        if response.status_code >= 400:
            raise HaltError(f"The file at {url} could not be read (HTTP {response.status_code}).")
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise HaltError(
                    f"The file at {url} is larger than {max_bytes // (1024 * 1024)} MB."
                )
            chunks.append(chunk)
        content_type = response.headers.get("content-type", "application/octet-stream")
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "file"
    return FileContent(name, b"".join(chunks), content_type.split(";")[0].strip())


# A file an action gives back goes into the run's result as a data: URI, base64 (a third
# larger), and a result is at most 4 MB: the file itself at most 2.5 MB.
MAX_ANSWER_FILE_BYTES = 5 * 1024 * 1024 // 2


def file_answer(response: httpx2.Response) -> dict[str, Any]:
    """An answer that is a file (a translated document, speech) as a result: the file as a
    ``data:`` URI, which a file field of another action takes, with its name, type and size."""
    content = response.content
    if len(content) > MAX_ANSWER_FILE_BYTES:
        raise HaltError(
            f"The app answered a file of {len(content) / 1024 / 1024:.1f} MB; an action gives "
            f"back files of at most {MAX_ANSWER_FILE_BYTES / 1024 / 1024:.1f} MB."
        )
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    media_type = media_type or "application/octet-stream"
    disposition = Message()
    disposition["content-disposition"] = response.headers.get("content-disposition", "")
    name = disposition.get_filename() or unquote(response.url.path.rsplit("/", 1)[-1])
    if "." not in name:
        name = "file" + (mimetypes.guess_extension(media_type) or "")
    encoded = base64.b64encode(content).decode()
    return {
        "file": f"data:{media_type};name={quote(name)};base64,{encoded}",
        "filename": name,
        "content_type": media_type,
        "size": len(content),
    }
