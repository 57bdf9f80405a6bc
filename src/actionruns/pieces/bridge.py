"""The Node process that runs pieces, seen from Python: JSON lines over its standard streams.

One process per worker process, started on first use and again after it died. Each call
has an id; a call that times out or is cancelled here tells the bridge to terminate the
thread running it (``bridge.js``), so nothing goes on running after we gave up on it.

The process runs under Node's permission model: it reads only the bridge and the folders of
the pieces it runs, writes nowhere, starts no process and loads no native addon; its
environment has nothing of ours but PATH, the locale and the CA file. Where the worker may
switch users (root, or CAP_SETUID and CAP_SETGID) and a user is named for pieces, it runs
as that user, with that user's group alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import pwd
import shutil
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import structlog

from actionruns.sdk.errors import ActionError
from actionruns.sdk.outbound import OutboundGuard

log = structlog.get_logger(__name__)
# Why pieces run as the worker's user, as already logged by this process.
_said: set[tuple[str, str]] = set()

BRIDGE_SCRIPT = Path(__file__).with_name("bridge.js")
# A piece's description can be large (Slack's is ~60 kB); answers are one line each.
LINE_LIMIT = 64 * 1024 * 1024
# What the Node process may see of our environment: nothing secret, nothing of ours.
PASSED_VARIABLES = ("PATH", "LANG", "LC_ALL", "TZ")


class NodeMissing(RuntimeError):
    """Node.js is not installed (or not on PATH)."""


class BridgeFailure(Exception):
    """A call the bridge answered with an error: what the piece threw, as the bridge saw it."""

    def __init__(self, error: Mapping[str, Any]) -> None:
        super().__init__(str(error.get("message") or "the piece failed"))
        self.error = dict(error)

    @property
    def kind(self) -> str:
        return str(self.error.get("kind") or "")


def node_binary() -> str:
    found = shutil.which(os.environ.get("ACTIONRUNS_NODE", "node"))
    if found is None:
        raise NodeMissing(
            "Node.js 20 or newer is needed to run pieces (Debian: apt-get install nodejs npm)."
        )
    return found


def scrubbed_environment() -> dict[str, str]:
    passed = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
    # The certificates Python's connectors trust (SSL_CERT_FILE), pieces trust too.
    if os.environ.get("SSL_CERT_FILE"):
        passed["NODE_EXTRA_CA_CERTS"] = os.environ["SSL_CERT_FILE"]
    return passed


# Linux capability numbers (capability.h): changing the process's user and groups.
CAP_SETGID, CAP_SETUID = 6, 7


def may_switch_users() -> bool:
    """Whether this process may start another as any user: root, or the two capabilities."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return os.geteuid() == 0
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            effective = int(line.split()[1], 16)
            return all(effective >> bit & 1 for bit in (CAP_SETUID, CAP_SETGID))
    return os.geteuid() == 0


def _allowed(info: os.stat_result, uid: int, gid: int, bits: int) -> bool:
    """Whether ``uid`` (whose only group is ``gid``) has ``bits`` (r=4, x=1) on the file."""
    if info.st_uid == uid:
        shift = 6
    elif info.st_gid == gid:
        shift = 3
    else:
        shift = 0
    return (info.st_mode >> shift) & bits == bits


def unreadable_by(paths: Iterable[str], uid: int, gid: int) -> str | None:
    """The first of ``paths`` (or a folder on the way) that ``uid`` cannot read, if any."""
    for path in paths:
        target = Path(path).resolve()
        for folder in reversed(target.parents):
            if not _allowed(folder.stat(), uid, gid, 1):
                return str(folder)
        info = target.stat()
        if not _allowed(info, uid, gid, 5 if stat.S_ISDIR(info.st_mode) else 4):
            return str(target)
    return None


def switched_user(name: str, readable: Iterable[str]) -> tuple[dict[str, Any], str | None]:
    """How to start the Node process as the user ``name``: the keyword arguments of
    subprocess for it, or none and why not."""
    if not name:
        if os.geteuid() == 0:
            return {}, "no user is named for pieces (ACTIONRUNS_PIECES_USER): they run as root"
        return {}, None
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        return {}, f"there is no user {name!r}"
    if user.pw_uid == os.geteuid():
        return {}, None
    if not may_switch_users():
        return {}, f"the worker runs as uid {os.geteuid()}, which may not switch users"
    try:
        unreadable = unreadable_by(readable, user.pw_uid, user.pw_gid)
    except OSError as exc:
        return {}, f"{exc.filename} cannot be read: {exc.strerror}"
    if unreadable is not None:
        return {}, f"{name} may not read {unreadable}"
    # Its folder may be closed to that user: paths it is given are absolute.
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [], "cwd": "/"}, None


class NodeBridge:
    def __init__(self, guard: OutboundGuard | None = None, *, user: str = "") -> None:
        # Where pieces may connect; without one (describing a piece) they connect nowhere.
        self.guard = guard
        self.user = user  # the OS user the Node process should run as, if it may
        self._asked: set[asyncio.Task[None]] = set()
        self._readable: set[str] = set()  # the pieces' folders this process may read
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def _permissions(self) -> list[str]:
        readable = [str(BRIDGE_SCRIPT), *(f"{folder}/*" for folder in sorted(self._readable))]
        return [
            "--experimental-permission",
            *(f"--allow-fs-read={path}" for path in readable),
            "--allow-worker",  # our own threads: reading other code is refused all the same
            "--no-addons",
            "--disable-warning=ExperimentalWarning",
        ]

    async def _start(self, folder: str | None) -> asyncio.subprocess.Process:
        async with self._lock:
            running = self._process is not None and self._process.returncode is None
            if folder is not None and folder not in self._readable:
                # A piece from a folder this process may not read: a new process may.
                self._readable.add(folder)
                if running:
                    await self.close()
                    running = False
            if running and self._process is not None:
                return self._process
            identity, why = switched_user(self.user, [str(BRIDGE_SCRIPT), *self._readable])
            if why is not None and (self.user, why) not in _said:
                _said.add((self.user, why))  # once a process: each Node start would repeat it
                log.warning("pieces_run_as_the_workers_user", user=self.user or None, why=why)
            process = await asyncio.create_subprocess_exec(
                node_binary(),
                *self._permissions(),
                str(BRIDGE_SCRIPT),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                env=scrubbed_environment(),
                limit=LINE_LIMIT,
                **identity,
            )
            self._process = process
            self._reader = asyncio.create_task(self._read(process))
            return process

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            try:
                answer = json.loads(line)
            except ValueError:
                log.warning("pieces_bridge_unreadable_line", line=line[:200])
                continue
            if answer.get("op") == "connect":
                task = asyncio.create_task(self._connect(process, answer))
                self._asked.add(task)
                task.add_done_callback(self._asked.discard)
                continue
            future = self._pending.pop(answer.get("id"), None)
            if future is not None and not future.done():
                future.set_result(answer)
        code = await process.wait()
        # The process is gone: every call it held is a lost attempt.
        lost = BridgeFailure({"message": f"the Node process stopped ({code})", "kind": "lost"})
        for future in self._pending.values():
            if not future.done():
                future.set_exception(lost)
        self._pending.clear()

    async def _connect(self, process: asyncio.subprocess.Process, asked: Mapping[str, Any]) -> None:
        """Answer a piece's connection: the checked address to dial, or why not."""
        answer: dict[str, Any] = {"op": "connected", "ref": asked.get("ref")}
        host, port = str(asked.get("host") or ""), int(asked.get("port") or 0)
        if self.guard is None:
            answer["error"] = "pieces connect nowhere while they are described"
        else:
            try:
                answer["address"] = (await self.guard.destination(host, port)).address
            except ActionError as exc:
                answer["error"] = exc.detail
        self._write(process, answer)

    @staticmethod
    def _write(process: asyncio.subprocess.Process, message: Mapping[str, Any]) -> None:
        if process.returncode is None and process.stdin is not None:
            with contextlib.suppress(ConnectionError, RuntimeError):
                process.stdin.write(json.dumps(message).encode() + b"\n")

    async def call(
        self,
        request: Mapping[str, Any],
        timeout: float | None = None,
        *,
        printed: list[dict[str, Any]] | None = None,
    ) -> Any:
        """Send ``request``; its result, or ``BridgeFailure``. A timeout raises TimeoutError
        and, like a cancellation, stops what runs the call. What the piece printed during
        the call, ``{"level", "text"}`` a line, is added to ``printed`` (as it was: secrets
        and all)."""
        piece = request.get("piece")
        process = await self._start(str(piece["dir"]) if isinstance(piece, Mapping) else None)
        assert process.stdin is not None
        number = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[number] = future
        process.stdin.write(json.dumps({**request, "id": number}).encode() + b"\n")
        try:
            await process.stdin.drain()
            async with asyncio.timeout(timeout):
                answer = await future
        except (TimeoutError, asyncio.CancelledError):
            self._pending.pop(number, None)
            self._cancel(process, number)
            raise
        if printed is not None:
            printed.extend(line for line in answer.get("printed") or () if isinstance(line, dict))
        if "error" in answer:
            raise BridgeFailure(answer["error"])
        return answer.get("result")

    @classmethod
    def _cancel(cls, process: asyncio.subprocess.Process, number: int) -> None:
        cls._write(process, {"op": "cancel", "target": number})

    async def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            async with asyncio.timeout(5):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
        if self._reader is not None:
            await self._reader

    async def __aenter__(self) -> NodeBridge:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
