"""Reading a description: a file, or a folder of files that refer to each other.

References (``$ref``) are resolved with ``referencing``, but only ever to files inside the
description's folder: a reference to a URL (``https://``, ``file://``) or out of the folder
(``../../etc/passwd``) fails the import. Nothing is fetched from the network. Files are size
capped, and a document is refused when it would expand past a node budget (YAML aliases that
multiply, the "billion laughs").
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from referencing import Registry, Resource, Specification
from referencing.exceptions import Unresolvable

from actionruns.openapi.errors import DanglingReference, ImportFailed

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_FILES = 10_000  # DigitalOcean's description is 2,850 files
# Nodes a whole description may hold once aliases are counted as copies: GitHub's full
# description is about 1.4 million.
MAX_NODES = 20_000_000
SUFFIXES = (".json", ".yaml", ".yml")
ROOT_NAMES = ("openapi", "swagger", "api", "spec")


class YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML's safe loader, reading numbers as YAML 1.2 does (what OpenAPI names): ``1e-08``
    is a number, where YAML 1.1 wants ``1.0e-08`` and reads the rest as a string (Mistral's
    learning rate minimum). It also reads YAML 1.1's ``=`` value tag (openapi-generator
    writes it: OneSignal's description has one) as the string it stands for."""


YamlLoader.add_constructor("tag:yaml.org,2002:value", yaml.SafeLoader.construct_yaml_str)
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse(text: str, name: str) -> Any:
    """A JSON or YAML document's contents."""
    try:
        if name.endswith(".json") or text.lstrip().startswith("{"):
            return json.loads(text)
        return yaml.load(text, Loader=YamlLoader)  # noqa: S506 (a safe loader)
    except (ValueError, yaml.YAMLError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportFailed(f"{name} is neither valid JSON nor valid YAML: {reason}") from None


def _count_nodes(document: Any, budget: int, name: str) -> int:
    """How many nodes ``document`` has, aliases counted each time; past ``budget`` it is
    refused (a YAML alias bomb expands exponentially as it is walked)."""
    count = 0
    stack = [document]
    while stack:
        node = stack.pop()
        count += 1
        if count > budget:
            raise ImportFailed(
                f"{name} expands to more than {budget:,} values (YAML aliases that multiply?): "
                "refused."
            )
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def _find_root(folder: Path) -> Path:
    candidates = sorted(
        path for path in folder.rglob("*") if path.is_file() and path.suffix in SUFFIXES
    )
    top = [path for path in candidates if path.parent == folder]
    for stem in ROOT_NAMES:
        for path in top:
            if path.stem.lower() == stem:
                return path
    described = []
    for path in top:
        head = path.read_text(errors="replace")[:4096]
        if "openapi" in head or "swagger" in head:
            described.append(path)
    if len(described) == 1:
        return described[0]
    if not described:
        raise ImportFailed(f"{folder} holds no OpenAPI or Swagger description at its top.")
    names = ", ".join(path.name for path in described)
    raise ImportFailed(f"{folder} holds several descriptions ({names}): name the one to import.")


class _Files:
    """The files a description may read: those under its folder, each parsed once; and the
    documents an overlay gives for references to elsewhere (``given``, by URI)."""

    def __init__(self, folder: Path, budget: int, given: dict[str, Any] | None = None) -> None:
        self.folder = folder.resolve()
        self.budget = budget
        self.parsed: dict[Path, Any] = {}
        self.given = given or {}

    def read(self, path: Path) -> Any:
        path = path.resolve()
        if path in self.parsed:
            return self.parsed[path]
        if not path.is_relative_to(self.folder):
            raise ImportFailed(
                f"a reference points out of the description's folder ({path}): refused."
            )
        if not path.is_file():
            raise ImportFailed(
                f"a reference points to {path.relative_to(self.folder)}, which does not exist."
            )
        if len(self.parsed) >= MAX_FILES:
            raise ImportFailed(f"the description refers to more than {MAX_FILES} files.")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFailed(
                f"{path.name} is {size / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MiB "
                "a description file may have."
            )
        contents = parse(path.read_text(encoding="utf-8", errors="replace"), path.name)
        self.budget -= _count_nodes(contents, self.budget, path.name)
        self.parsed[path] = contents
        return contents

    def retrieve(self, uri: str) -> Resource[Any]:
        if uri in self.given:
            return Specification.OPAQUE.create_resource(self.given[uri])
        parts = urlsplit(uri)
        if parts.scheme != "file" or parts.netloc:
            raise ImportFailed(
                f"a reference points to {uri}: references are read only from files in the "
                "description's folder, never from the network."
            )
        contents = self.read(Path(unquote(parts.path)))
        return Specification.OPAQUE.create_resource(contents)


@dataclass
class Description:
    """A description's root document and a resolver for its references."""

    root: dict[str, Any]
    name: str
    resolver: Any
    reader: _Files

    @property
    def files(self) -> list[Path]:
        """Every file read so far: the root first, then those its references reached."""
        return list(self.reader.parsed)

    @property
    def spec_version(self) -> str:
        return str(self.root.get("openapi") or self.root.get("swagger") or "")

    @property
    def is_swagger(self) -> bool:
        return self.spec_version.startswith("2")


def load(source: Path, references: dict[str, Any] | None = None) -> Description:
    """Read the description at ``source`` (a file, or a folder whose top holds one);
    ``references`` stand in for documents the description refers to outside its folder."""
    if not source.exists():
        raise ImportFailed(f"{source} does not exist.")
    root_path = _find_root(source) if source.is_dir() else source
    if root_path.suffix not in SUFFIXES and source.is_dir():
        raise ImportFailed(f"{root_path} is not a .json, .yaml or .yml file.")
    files = _Files(source if source.is_dir() else root_path.parent, MAX_NODES, references)
    root = files.read(root_path)
    if not isinstance(root, dict):
        raise ImportFailed(f"{root_path.name} is not an OpenAPI description (not an object).")
    version = str(root.get("openapi") or root.get("swagger") or "")
    if not (version.startswith("3.") or version == "2.0"):
        raise ImportFailed(
            f"{root_path.name} is not an OpenAPI 3.x or Swagger 2.0 description "
            f"(openapi/swagger: {version or 'missing'})."
        )
    if not isinstance(root.get("paths", {}), dict):
        raise ImportFailed(f"{root_path.name}: paths must be an object of paths.")
    uri = root_path.resolve().as_uri()
    registry: Registry[Any] = Registry(retrieve=files.retrieve).with_resource(  # type: ignore[call-arg]
        uri, Specification.OPAQUE.create_resource(root)
    )
    return Description(root, root_path.name, registry.resolver(base_uri=uri), files)


def digest(paths: list[Path]) -> str:
    """One SHA-256 over the files, in order: what an upgrade compares."""
    hasher = hashlib.sha256()
    for path in paths:
        hasher.update(hashlib.sha256(path.read_bytes()).digest())
    return hasher.hexdigest()


def resolve(resolver: Any, ref: str) -> tuple[Any, Any]:
    """The contents a reference points to, and the resolver to read its own references."""
    try:
        resolved = resolver.lookup(ref)
    except ImportFailed:
        raise
    except Unresolvable as exc:
        cause: BaseException | None = exc
        while cause is not None:  # refused by ``_Files``, under referencing's own errors
            if isinstance(cause, ImportFailed):
                raise cause from None
            cause = cause.__cause__
        raise DanglingReference(f"the reference {ref!r} points at nothing.") from None
    except (KeyError, IndexError, TypeError, ValueError):
        raise DanglingReference(f"the reference {ref!r} points at nothing.") from None
    return resolved.contents, resolved.resolver
