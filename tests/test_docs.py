"""The documentation runs as written: every shell block of README.md and docs/*.md marked to
run is executed, in order, in one bash session per scenario, against a running service, with
local servers standing in for the outside world. A doc that drifts from the code fails here.

How a block is marked, in its info string (GitHub shows only the language):

    ```sh run             run it; it must exit 0 (``exit=N``: it must exit N)
    ```sh background      start it (a server) and go on once it answers; stopped at the end
    ```sh no-run          shown only (it installs, or needs a real machine): never run
    ```python file=P      write the block to P (relative to the scenario's folder)

Every sh block must say which. The stand-ins replace the outside world's addresses in each
block before it runs (``STAND_INS``): the service's documented address becomes the test's
free port, ``smtp.example.com:587`` an aiosmtpd server that takes STARTTLS and the login the
README shows, ``https://notepad.example`` a local HTTP server that answers as Notepad's API
would, the deployment guide's database a fresh PostgreSQL database.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import free_port
from tests.postgres import fresh_database
from tests.smtp import Mailbox, running_smtp, self_signed_certificate

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELLS = {"sh", "bash", "shell", "console"}
MARKS = {"run", "background", "no-run"}
DOCUMENTED_URL = "http://127.0.0.1:8080"
README_LOGIN = ("me", "app-password")


@dataclass(frozen=True)
class Block:
    document: Path
    line: int
    language: str
    marks: frozenset[str]
    options: Mapping[str, str]
    text: str

    @property
    def where(self) -> str:
        return f"{self.document.relative_to(REPO)}:{self.line}"


def blocks(document: Path) -> list[Block]:
    found = []
    for token in MarkdownIt().parse(document.read_text()):
        if token.type != "fence" or token.map is None:
            continue
        language, *words = token.info.split() or [""]
        options = dict(word.split("=", 1) for word in words if "=" in word)
        marks = frozenset(word for word in words if "=" not in word)
        found.append(Block(document, token.map[0] + 1, language, marks, options, token.content))
    return found


def test_every_shell_block_says_whether_it_runs() -> None:
    unmarked = [
        block.where
        for document in DOCUMENTS
        for block in blocks(document)
        if block.language in SHELLS and len(block.marks & MARKS) != 1
    ]
    assert not unmarked, (
        "mark each shell block 'run', 'background' or 'no-run' (tests/test_docs.py): "
        + ", ".join(unmarked)
    )


# -- the stand-ins ----------------------------------------------------------------------


@dataclass
class Notepad:
    """Notepad's API as docs/connectors.md describes it: POST /api/notes and GET /api/me,
    with a bearer key."""

    notes: list[dict[str, str]] = field(default_factory=list)

    @staticmethod
    def refused(request: Request) -> Response | None:
        if request.headers.get("Authorization") == "Bearer my-notepad-key":
            return None
        return Response(json.dumps({"message": "bad key"}), 401, mimetype="application/json")

    def me(self, request: Request) -> Response:
        return self.refused(request) or Response(
            json.dumps({"name": "Ada Lovelace"}), mimetype="application/json"
        )

    def create(self, request: Request) -> Response:
        if refusal := self.refused(request):
            return refusal
        note = {"id": f"n_{len(self.notes) + 1}", **request.get_json()}
        self.notes.append(note)
        answer = {"id": note["id"], "title": note["title"], "url": f"/n/{note['id']}"}
        return Response(json.dumps(answer), 201, mimetype="application/json")


@dataclass
class World:
    """The servers standing in for the outside, and how a doc's addresses map to them."""

    folder: Path
    port: int
    env: dict[str, str]
    mailbox: Mailbox
    notepad: Notepad
    stand_ins: dict[str, str]

    def rewrite(self, text: str) -> str:
        for outside, inside in self.stand_ins.items():
            text = text.replace(outside, inside)
        return text


@pytest.fixture
def world(tmp_path: Path, httpserver: HTTPServer) -> Iterator[World]:
    certificate = self_signed_certificate(tmp_path)
    mailbox, notepad = Mailbox(), Notepad()
    httpserver.expect_request("/api/notes", method="POST").respond_with_handler(notepad.create)
    httpserver.expect_request("/api/me", method="GET").respond_with_handler(notepad.me)
    folder = tmp_path / "work"
    (folder / "home").mkdir(parents=True)
    (folder / ".venv").symlink_to(REPO / ".venv")  # the README's .venv/bin/actionruns
    port = free_port()
    venv_bin = REPO / ".venv" / "bin"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ACTIONRUNS_")},
        "PATH": f"{venv_bin}:{os.environ['PATH']}",
        "ACTIONRUNS_HOME": str(folder / "home"),
        "ACTIONRUNS_PORT": str(port),
        "ACTIONRUNS_OUTBOUND_ALLOW": "127.0.0.0/8",  # the stand-ins are on loopback
        "SSL_CERT_FILE": str(certificate[0]),
        "COLUMNS": "120",
    }
    env.pop("PYTHONPATH", None)
    with running_smtp(
        mailbox, security="starttls", certificate=certificate, login=README_LOGIN
    ) as smtp_port:
        yield World(
            folder,
            port,
            env,
            mailbox,
            notepad,
            {
                DOCUMENTED_URL: f"http://127.0.0.1:{port}",
                '"host": "smtp.example.com", "port": 587': (
                    f'"host": "127.0.0.1", "port": {smtp_port}'
                ),
                "https://notepad.example": httpserver.url_for("").rstrip("/"),
            },
        )


# -- running a scenario -----------------------------------------------------------------


def script(world: World, scenario: list[Block]) -> str:
    """One bash script for the blocks, in order: the first that fails stops it, saying
    which block and which command."""
    lines = [
        "set -eEuo pipefail",
        "BACKGROUND=()",
        "trap 'echo \"FAILED $WHERE: $BASH_COMMAND\" >&2' ERR",
        _wait_function(world),
    ]
    for number, block in enumerate(scenario):
        text = world.rewrite(block.text)
        if "file" in block.options:
            target = shlex.quote(block.options["file"])
            lines.append(f'mkdir -p "$(dirname {target})"')
            lines.append(f"cat > {target} <<'__DOC_BLOCK__'\n{text}__DOC_BLOCK__")
            continue
        if block.language not in SHELLS or "no-run" in block.marks:
            continue
        # Each block's start, on bash's clock: how long a doc's steps take can be read off.
        lines += [f"WHERE={shlex.quote(block.where)}", 'echo "== $WHERE at $EPOCHREALTIME" >&2']
        if "background" in block.marks:
            log = f"background-{number}.log"
            kind = "http" if " serve" in f" {text}" else "process"
            lines.append(f"( set -e\n{text}) > {log} 2>&1 &")
            lines.append("BACKGROUND+=($!)")
            lines.append(f"wait_until_ready $! {log} {kind}")
            continue
        expected = int(block.options.get("exit", "0"))
        if not expected:
            lines.append(text)
            continue
        lines += [  # in a subshell: nothing it sets is needed after an expected failure
            "set +eE",
            f"( set -e\n{text})",
            "status=$?",
            "set -eE",
            f'[ "$status" -eq {expected} ] || '
            f'{{ echo "FAILED $WHERE: exit $status, expected {expected}" >&2; exit 98; }}',
        ]
    lines.append("echo '== every block ran' >&2")
    return "\n".join(lines) + "\n"


def _wait_function(world: World) -> str:
    """``wait_until_ready PID LOG http|process``: the service answers /readyz, or (another
    process) it is still up after a moment; stopped when the script ends."""
    return f"""
wait_until_ready() {{
  for _ in $(seq 600); do
    if ! kill -0 "$1" 2>/dev/null; then echo "FAILED: it exited" >&2; cat "$2" >&2; return 1; fi
    ready=http://127.0.0.1:{world.port}/readyz
    if [ "$3" = http ] && curl -sf "$ready" >/dev/null; then return 0; fi
    if [ "$3" = process ]; then sleep 1; kill -0 "$1" && return 0; fi
    sleep 0.1
  done
  echo "FAILED: never ready" >&2; cat "$2" >&2; return 1
}}
stop_background() {{
  for pid in "${{BACKGROUND[@]}}"; do pkill -TERM -P "$pid" || true; done
  wait || true
}}
trap stop_background EXIT
"""


def run_scenario(world: World, scenario: list[Block], name: str) -> str:
    body = script(world, scenario)
    (world.folder / f"{name}.sh").write_text(body)
    done = subprocess.run(
        ["bash", f"{name}.sh"],
        cwd=world.folder,
        env=world.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0, f"{name}: the documented commands failed:\n{said[-6000:]}"
    return said


@pytest.fixture
async def service(world: World) -> AsyncIterator[None]:
    """The service README.md assumes is running (it was started by ./scripts/serve)."""
    log = (world.folder / "serve.log").open("w")
    server = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "actionruns"), "serve"],
        cwd=world.folder,
        env=world.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    waited = subprocess.run(
        [
            "bash",
            "-c",
            f"BACKGROUND=()\n{_wait_function(world)}\nwait_until_ready {server.pid} serve.log http",
        ],
        cwd=world.folder,
        env=world.env,
        timeout=120,
        check=False,
    )
    assert waited.returncode == 0, (world.folder / "serve.log").read_text()
    yield
    server.terminate()
    server.wait(timeout=30)
    log.close()


def _tools() -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            message = f"the docs' examples need {tool} (apt-get install {tool})"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"{message}: under CI it must run", pytrace=False)
            pytest.skip(message)


def test_the_readme_and_the_connect_guide_run_as_written(world: World, service: None) -> None:
    _tools()
    scenario = blocks(REPO / "README.md") + blocks(REPO / "docs" / "connections.md")
    said = run_scenario(world, scenario, "readme")
    # The stand-in SMTP server got the welcome mail twice: by the API and by the CLI.
    messages = world.mailbox.messages
    assert [m["Subject"] for m in messages] == ["Hi", "Hi"], said[-3000:]
    assert [m["To"] for m in messages] == ["ada@example.com", "ada@example.com"]
    assert "✓ attempt 1 succeeded" in said


def test_the_client_quickstart_runs_as_written(world: World, service: None) -> None:
    _tools()
    port = free_port()  # the callback receiver's, for the doc's 8099
    world.stand_ins |= {"127.0.0.1:8099": f"127.0.0.1:{port}", '1", 8099)': f'1", {port})'}
    said = run_scenario(world, blocks(REPO / "docs" / "client.md"), "client")
    # The quickstart's wall time, from a new client to a sent email (for the record).
    starts = [float(at) for at in re.findall(r"^== docs/client\.md:\d+ at ([\d.]+)$", said, re.M)]
    steps = ", ".join(f"{b - a:.1f}" for a, b in itertools.pairwise(starts))
    print(f"docs/client.md: the quickstart took {starts[2] - starts[0]:.1f} s (steps: {steps} s)")
    messages = world.mailbox.messages
    assert [m["Subject"] for m in messages] == ["Hi", "Your order", "Receipt"], said[-3000:]
    assert "success [{" in said and "grace sees []" in said and "grace: 404" in said
    assert re.search(r"^callback: \S+ success$", said, re.MULTILINE), said[-3000:]


def test_a_first_connector_as_docs_connectors_md_walks_through_it(world: World) -> None:
    _tools()
    said = run_scenario(world, blocks(REPO / "docs" / "connectors.md"), "connectors")
    assert [note["title"] for note in world.notepad.notes] == ["Groceries"], said[-3000:]
    assert "TODO:" in said  # the first check named the placeholders
    assert re.search(r'"status": "success"', said), said[-3000:]


async def test_the_deployment_guide_runs_as_written(world: World) -> None:
    _tools()
    async with fresh_database() as url:
        world.stand_ins["postgresql://actionruns:secret@db.internal/actionruns"] = url
        said = run_scenario(world, blocks(REPO / "docs" / "deployment.md"), "deployment")
    assert "database is up to date" in said
