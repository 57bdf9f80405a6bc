"""Vendors' published API descriptions (OpenAPI) and GraphQL schemas, read from the vendors'
own files at test time.

Nothing of a vendor's file is kept in this repository: ``DESCRIPTIONS`` (OpenAPI) and
``SCHEMAS`` (GraphQL) say where each one is published (repository, file, commit, license) and
which operations our connector calls. At test time the file is read from, in order:

1. ``$ACTIONRUNS_VENDOR_SPECS/<owner>+<name>/<path>`` or
   ``../shared/reference/vendors/<owner>+<name>/<path>`` (the vendor's file as published);
2. a local git copy of the vendor's repository at ``/work/.mirror/<owner>+<name>/repo`` (what
   the workspace's ``fetch`` tool leaves), read with ``git show COMMIT:PATH``; a description
   whose ``$ref``s reach other files (DigitalOcean's) is taken out with its whole folder.

An OpenAPI description is trimmed to those operations (their parameters, request bodies and
security, and every component they refer to; no responses, descriptions or examples), which is
what the checks need and keeps openapi-core fast. A GraphQL schema (SDL) is used whole, as
validating a document needs every type it reaches; its entry also says where the endpoint is
and how the vendor documents sending each kind of credential, which a schema does not tell.
Without the file, the tests that need it skip and say where to put it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from graphql import GraphQLField, GraphQLSchema, OperationType, build_schema

from actionruns.openapi.load import load, parse, resolve
from tests.locks import held

REPO = Path(__file__).resolve().parents[2]
CURATED_APPS = REPO / "src" / "actionruns" / "connectors" / "curated"
MIRRORS = Path("/work/.mirror")
# A ``$ref`` to another file of the folder (``'resources/droplets/droplets_list.yml'``).
EXTERNAL_REF = re.compile(r"""\$ref["']?\s*:\s*["']?[\w./-]+\.(?:ya?ml|json)\b""")
# Vendor files taken out of a mirror, once per commit.
CACHE = Path(tempfile.gettempdir()) / "actionruns-vendor-files"


@dataclass(frozen=True)
class Published:
    """A vendor's file as published: where, at which commit, under which license."""

    repository: str  # owner/name on GitHub
    path: str
    commit: str
    license: str

    @property
    def source(self) -> str:
        return f"{self.repository}@{self.commit[:10]}:{self.path}"


@dataclass(frozen=True)
class Description(Published):
    """An OpenAPI description."""

    operations: tuple[str, ...]  # what the connector calls: "POST /v1/customers"
    note: str = ""


@dataclass(frozen=True)
class Schema(Published):
    """A GraphQL schema (SDL), and what the vendor documents beside it."""

    # The URL the requests go to; a ``{name}`` stands for one path segment or host label.
    endpoint: str
    # How the vendor documents sending a credential, by the app's auth type (``AuthType``
    # value): "Header: template", the template formatted with the app's credentials.
    auth: Mapping[str, str]
    # The root fields the connector calls: "query viewer", "mutation issueCreate".
    operations: tuple[str, ...]
    note: str = ""


DESCRIPTIONS: dict[str, Description] = {
    "asana": Description(
        "Asana/openapi",
        "defs/asana_oas.yaml",
        "fc9f8dcf224efa8e06bfc955d91dd95aac7a398d",
        "Apache-2.0",
        ("GET /users/{user_gid}", "GET /workspaces", "GET /projects", "POST /tasks"),
        note="the license is the description's own info.license",
    ),
    "discord": Description(
        "discord/discord-api-spec",
        "specs/openapi.json",
        "74fda0fad044407ea280043a03ffc9bc64c4e49e",
        "MIT",
        (
            "GET /users/@me",
            "POST /channels/{channel_id}/messages",
            "POST /webhooks/{webhook_id}/{webhook_token}",
        ),
    ),
    "github": Description(
        "octokit/openapi",
        "cache/api.github.com.json",
        "9acf9c835337092fdc1b5adc98749912bdcf334c",
        "MIT",
        (
            "GET /user",
            "GET /user/repos",
            "POST /repos/{owner}/{repo}/issues",
            "PATCH /repos/{owner}/{repo}/issues/{issue_number}",
            "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
            "POST /repos/{owner}/{repo}/releases",
            "GET /search/issues",
        ),
        note="octokit's copy (June 2022) of github/rest-api-description, too large to fetch",
    ),
    "intercom": Description(
        "intercom/Intercom-OpenAPI",
        "descriptions/2.11/api.intercom.io.yaml",
        "8889625a7b931d8649e18726e7f872ff073520fc",
        "MIT",
        (
            "GET /me",
            "POST /contacts",
            "POST /contacts/search",
            "PUT /contacts/{contact_id}",
            "GET /contacts",
            "GET /tags",
            "POST /contacts/{contact_id}/tags",
        ),
        note="API version 2.11, the one the connector (and the piece's client) sends in "
        "Intercom-Version; listing contacts and tags, and tagging one: what Intercom's piece "
        "calls (tests/pieces)",
    ),
    "jira": Description(
        "jarekbird/jira-api-mcp-wrapper",
        "swagger-v3.v3.json",
        "fea6054694f99860c85887a64b9f169fec71ed18",
        "Apache-2.0",
        (
            "GET /rest/api/3/myself",
            "GET /rest/api/3/project/search",
            "GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes",
            "POST /rest/api/3/issue",
            "POST /rest/api/3/issue/{issueIdOrKey}/comment",
            "GET /rest/api/3/issue/{issueIdOrKey}/transitions",
            "POST /rest/api/3/issue/{issueIdOrKey}/transitions",
            "POST /rest/api/3/search/jql",
        ),
        note="Atlassian's Jira Cloud platform description as published at "
        "https://developer.atlassian.com/cloud/jira/platform/swagger-v3.v3.json, copied "
        "unchanged (December 2025) into a small repository that has no license of its own; "
        "the license is the description's own info.license",
    ),
    "sendgrid": Description(
        "sendgrid/sendgrid-oai",
        "oai_v3_stoplight.json",
        "bef1536aeed2eb7b1ad4fde110a8ec65c583c4c5",
        "MIT",
        ("GET /scopes", "POST /mail/send"),
    ),
    "stripe": Description(
        "stripe/openapi",
        "openapi/spec3.yaml",
        "63a674638635c68de26b9f3add13e58198f4df44",
        "MIT",
        ("GET /v1/balance", "GET /v1/customers", "POST /v1/customers", "POST /v1/invoiceitems"),
        note="September 2023: newer snapshots here lack the large files",
    ),
    "twilio": Description(
        "twilio/twilio-oai",
        "spec/json/twilio_api_v2010.json",
        "d50069b44ea8cd23141385bdb6db48f16ff75bb5",
        "MIT",
        (
            "GET /2010-04-01/Accounts/{Sid}.json",
            "POST /2010-04-01/Accounts/{AccountSid}/Messages.json",
            "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
        ),
        note="IncomingPhoneNumbers: what Twilio's piece lists numbers with (tests/pieces)",
    ),
}


def _curated(app_key: str) -> Description:
    """A curated app's description, as its overlay records it: the operations checked are
    those its app calls."""
    folder = CURATED_APPS / app_key
    source = yaml.safe_load((folder / "overlay.yaml").read_text())["source"]
    app = json.loads((folder / "app.json").read_text())
    operations = tuple(
        dict.fromkeys(
            f"{operation['request']['method']} {operation['request']['path']}"
            for operation in app["operations"]
        )
    )
    return Description(
        source["repository"],
        source["path"],
        source["commit"],
        source["license"],
        operations,
        source.get("note", ""),
    )


# The curated apps (src/actionruns/connectors/curated): the vendor's file each was made from.
CURATED: dict[str, Description] = {
    path.parent.name: _curated(path.parent.name) for path in sorted(CURATED_APPS.glob("*/app.json"))
}
DESCRIPTIONS.update(CURATED)


SCHEMAS: dict[str, Schema] = {
    "linear": Schema(
        "linear/linear",
        "packages/sdk/src/schema.graphql",
        "8335e09a17dd8aa351dace3d05a94a55e78dad2a",
        "MIT",
        endpoint="https://api.linear.app/graphql",
        auth={
            "api_key": "Authorization: {api_key}",
            "oauth2": "Authorization: Bearer {access_token}",
        },
        operations=("query viewer", "query teams", "mutation issueCreate"),
        note="the schema of Linear's SDK (@linear/sdk), July 2026. Credentials: a personal API "
        "key as it is, an OAuth access token as Bearer "
        "(https://linear.app/developers/graphql#authentication; the SDK's own client does the "
        "same, packages/sdk/src/client.ts)",
    ),
    "shopify": Schema(
        "Shopify/bluejay",
        "data/admin_schema_2026-01_public.graphql",
        "82842b93c8db5c74bb2f998ebd1c443060da0074",
        "MIT",
        endpoint="https://{shop}.myshopify.com/admin/api/{version}/graphql.json",
        auth={"custom": "X-Shopify-Access-Token: {access_token}"},
        operations=(
            "query shop",
            "query locations",
            "query orders",
            "mutation customerCreate",
            "mutation inventoryAdjustQuantities",
        ),
        note="Shopify's public Admin API schema of version 2026-01, which Shopify's GraphQL "
        "toolkit keeps as test data: the newest in a repository of Shopify's. The connector "
        "pins 2026-10, where changeFromQuantity became required (optional in 2026-01, so not "
        "checked). The access token goes in X-Shopify-Access-Token "
        "(https://shopify.dev/docs/api/usage/authentication)",
    ),
}


def vendor_file(published: Published) -> Path | None:
    """The vendor's file on this machine: in the reference folder as published, else taken
    out of a local git copy of the vendor's repository (into a cache); None if neither."""
    folder = published.repository.replace("/", "+")
    roots = [
        Path(os.environ["ACTIONRUNS_VENDOR_SPECS"])
        if "ACTIONRUNS_VENDOR_SPECS" in os.environ
        else None,
        REPO.parent / "shared" / "reference" / "vendors",
    ]
    for root in roots:
        if root is not None and (root / folder / published.path).is_file():
            return root / folder / published.path
    cached = CACHE / folder / published.commit / published.path
    if cached.is_file():
        return cached
    git_dir = MIRRORS / folder / "repo"
    if not git_dir.is_dir():
        return None
    # The suite's processes share the cache: one takes a file out while the others wait.
    with held(CACHE / ".lock"):
        if cached.is_file():
            return cached
        shown = subprocess.run(
            ["git", "--git-dir", str(git_dir), "show", f"{published.commit}:{published.path}"],
            capture_output=True,
        )
        if shown.returncode == 0:
            cached.parent.mkdir(parents=True, exist_ok=True)
            folder_of_path = str(Path(published.path).parent)
            text = shown.stdout.decode(errors="replace")
            if folder_of_path != "." and EXTERNAL_REF.search(text):
                into = CACHE / folder / published.commit
                _extract(git_dir, published.commit, folder_of_path, into)
            # Whole or not at all: the others look for the file before taking the lock.
            partial = cached.with_name(cached.name + ".part")
            partial.write_bytes(shown.stdout)
            partial.replace(cached)
            return cached
    return None


def _extract(git_dir: Path, commit: str, folder: str, into: Path) -> None:
    """``folder`` of the repository at ``commit``, written out under ``into``: the files a
    description's references reach."""
    archive = subprocess.run(
        ["git", "--git-dir", str(git_dir), "archive", "--format=tar", commit, folder],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)


def _published_file(published: Published) -> str | None:
    path = vendor_file(published)
    return path.read_text() if path is not None else None


@cache
def trimmed_description(app_key: str) -> dict[str, Any] | None:
    """The app's vendor description, trimmed to the operations the connector calls; None
    when the vendor's file is not on this machine."""
    description = DESCRIPTIONS[app_key]
    path = vendor_file(description)
    if path is None:
        return None
    # Reading a large description takes seconds (OpenAI's YAML 4 s): the trimmed one is kept,
    # named by what it was made of (this module, the entry, the vendor's file as it is now).
    made_of = hashlib.sha256(Path(__file__).read_bytes())
    stat = path.stat()
    made_of.update(repr((description, str(path), stat.st_size, stat.st_mtime_ns)).encode())
    kept = CACHE / "trimmed" / f"{app_key}-{made_of.hexdigest()[:16]}.json"
    if kept.is_file():
        return dict(json.loads(kept.read_text()))
    text = path.read_text()
    if EXTERNAL_REF.search(text):
        document = inlined(path, description.operations)
    else:
        # Read as the importer reads it (YAML 1.1's "=" value tag included: OneSignal's has one).
        document = parse(text, description.path)
    trimmed = trim(document, description.operations, description.source)
    try:
        written = json.dumps(trimmed)
    except TypeError:  # a YAML date or the like, which JSON would not give back as it was
        return trimmed
    kept.parent.mkdir(parents=True, exist_ok=True)
    partial = kept.with_suffix(f".{os.getpid()}")  # whole or not at all, for a parallel run
    partial.write_text(written)
    partial.replace(kept)
    return trimmed


def inlined(path: Path, operations: Sequence[str]) -> dict[str, Any]:
    """A description whose ``$ref``s reach other files, as one document of ``operations``'
    path items, every reference they make (to any file) replaced by what it points to.

    A reference back into a schema it is inside of (a tree's children) is left as any value:
    openapi-core checks everything else of the request.
    """
    description = load(path)  # as the importer reads it: only files inside the folder
    root = description.root
    paths: dict[str, Any] = {}
    for operation in operations:
        template = operation.partition(" ")[2]
        if template in root.get("paths", {}):
            paths[template] = _inline(root["paths"][template], description.resolver, frozenset())
    return {**root, "paths": paths}


def _inline(node: Any, resolver: Any, inside: frozenset[int]) -> Any:
    if isinstance(node, list):
        return [_inline(item, resolver, inside) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        target, target_resolver = resolve(resolver, node["$ref"])
        if id(target) in inside:
            return {}
        return _inline(target, target_resolver, inside | {id(target)})
    # Extensions (DigitalOcean's code samples, each a file of its own) are never checked. A
    # discriminator's mapping names its schemas by file, which one document cannot: the
    # anyOf or oneOf it sits beside checks the body without it.
    return {
        key: _inline(value, resolver, inside)
        for key, value in node.items()
        if not str(key).startswith("x-") and not (key == "discriminator" and _by_file(value))
    }


def _by_file(discriminator: Any) -> bool:
    mapping = discriminator.get("mapping") if isinstance(discriminator, dict) else None
    return isinstance(mapping, dict) and any(
        not str(target).startswith("#") for target in mapping.values()
    )


@cache
def graphql_schema(app_key: str) -> GraphQLSchema | None:
    """The app's vendor GraphQL schema; None when the vendor's file is not on this machine.

    Built without checking the schema itself: graphql-core 3.3 enforces rules newer than some
    vendors' schemas (Shopify's deprecates fields that implement interface fields which are
    not deprecated), which do not matter to validating a request against it.
    """
    schema = SCHEMAS[app_key]
    text = _published_file(schema)
    if text is None:
        return None
    built = build_schema(text, assume_valid=True)
    missing = [operation for operation in schema.operations if root_field(built, operation) is None]
    if missing:
        raise LookupError(f"{', '.join(missing)} not in {schema.source}")
    return built


def root_field(schema: GraphQLSchema, operation: str) -> GraphQLField | None:
    """The schema's root field for "query viewer", "mutation issueCreate"…"""
    kind, _, name = operation.partition(" ")
    root = schema.get_root_type(OperationType(kind))
    return None if root is None else root.fields.get(name)


def where_to_put(app_key: str) -> str:
    published: Published = DESCRIPTIONS.get(app_key) or SCHEMAS[app_key]
    folder = published.repository.replace("/", "+")
    return (
        f"{published.source} ({published.license}) is not on this machine: put the "
        f"file at ../shared/reference/vendors/{folder}/{published.path} (or under "
        "ACTIONRUNS_VENDOR_SPECS), or fetch the repository"
    )


METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# Keywords whose values are maps from names (properties, components…) to schemas, where a
# key called "description" or "example" is a name to keep, not documentation to drop.
NAME_MAPS = {
    "properties",
    "patternProperties",
    "schemas",
    "parameters",
    "requestBodies",
    "headers",
    "securitySchemes",
    "encoding",
    "content",
    "$defs",
    "definitions",
}
DOCUMENTATION = {"example", "examples", "externalDocs"}
PROSE = {"description", "summary", "title"}  # dropped where they are text, not a name
NOT_CHECKED = {"default": {"description": "not checked"}}


def _git(git_dir: Path, *arguments: str) -> str:
    command = ["git", "--git-dir", str(git_dir), *arguments]
    # The caller's own git directory and arguments; git is whichever is on PATH.
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def _read(git_dir: Path, commit: str, path: str) -> tuple[str, Any]:
    sha = _git(git_dir, "rev-parse", "--verify", f"{commit}^{{commit}}").strip()
    text = _git(git_dir, "show", f"{sha}:{path}")
    return sha, parse(text, path)


def _documentation(key: str, value: Any) -> bool:
    return key.startswith("x-") or key in DOCUMENTATION or (key in PROSE and isinstance(value, str))


def _clean(node: Any, *, names: bool = False) -> Any:
    """``node`` without documentation, examples and ``x-`` extensions."""
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    cleaned: dict[str, Any] = {}
    for raw_key, value in node.items():
        key = str(raw_key)  # YAML reads status codes as integers
        if names:
            cleaned[key] = _clean(value)
        elif not _documentation(key, value):
            cleaned[key] = _clean(value, names=key in NAME_MAPS)
    return cleaned


def _refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
    for value in node.values():
        found |= _refs(value)
    return found


def _pointer(document: Any, ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, not {ref}")
    node = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _set_pointer(document: dict[str, Any], ref: str, value: Any) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")]
    node = document
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def trim(document: dict[str, Any], operations: Sequence[str], source: str) -> dict[str, Any]:
    """Only ``operations`` ("POST /path") of ``document``, with everything they refer to."""
    version = str(document.get("openapi", document.get("swagger", "")))
    if not version.startswith("3."):
        raise ValueError(f"{source}: OpenAPI 3 is needed, this is {version or 'not OpenAPI'}")
    paths: dict[str, Any] = {}
    for operation in operations:
        method, _, path = operation.partition(" ")
        item = document["paths"].get(path)
        if item is None or method.lower() not in item:
            raise LookupError(f"{operation} is not in {source}")
        kept = paths.setdefault(path, {})
        if "parameters" in item:
            kept["parameters"] = _clean(item["parameters"])
        chosen = _clean(item[method.lower()])
        chosen["responses"] = NOT_CHECKED
        chosen.pop("callbacks", None)
        kept[method.lower()] = chosen
    trimmed: dict[str, Any] = {
        "openapi": document["openapi"],
        "info": {
            "title": document["info"].get("title", source),
            "version": document["info"].get("version", ""),
            **({"license": document["info"]["license"]} if "license" in document["info"] else {}),
        },
        "servers": [
            {"url": s["url"], **({"variables": s["variables"]} if "variables" in s else {})}
            for s in document.get("servers", [])
        ],
        "paths": paths,
    }
    if "security" in document:
        trimmed["security"] = document["security"]
    schemes = document.get("components", {}).get("securitySchemes", {})
    used = {name for requirement in trimmed.get("security", []) for name in requirement}
    for item in paths.values():
        for method, chosen in item.items():
            if method in METHODS:
                used |= {name for requirement in chosen.get("security", []) for name in requirement}
    if used:
        trimmed["components"] = {
            "securitySchemes": {
                name: _clean({k: v for k, v in schemes[name].items() if k != "flows"})
                | ({"flows": _flows(schemes[name]["flows"])} if "flows" in schemes[name] else {})
                for name in sorted(used)
            }
        }
    pending = _refs(trimmed)
    done: set[str] = set()
    while pending:
        ref = pending.pop()
        done.add(ref)
        target = _clean(_pointer(document, ref))
        if ref.startswith("#/components/responses/"):
            target = {"description": "not checked"}
        _set_pointer(trimmed, ref, target)
        pending |= _refs(target) - done
    if "components" in trimmed:  # in a stable order
        trimmed["components"] = {
            section: dict(sorted(members.items()))
            for section, members in sorted(trimmed["components"].items())
        }
    return trimmed


def _flows(flows: dict[str, Any]) -> dict[str, Any]:
    """OAuth flows with their URLs but no scope catalogue (the scopes map is required)."""
    return {
        name: {**{k: v for k, v in flow.items() if k != "scopes"}, "scopes": {}}
        for name, flow in flows.items()
    }
