"""Operators of the dashboard: their passwords, sign-in (throttled), sessions, and what
they may do across clients (retry a run on its client's behalf)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from actionruns.engine.attempts import AttemptLimit, AttemptLimits
from actionruns.engine.runs import RunRequest, RunService
from actionruns.errors import NotFound, Unprocessable
from actionruns.principal import Principal
from actionruns.store import RunRecord, Store
from actionruns.store.operators import OperatorSessionRecord

# scrypt at OWASP's recommended cost (N=2^17, r=8, p=1): 128 MiB and ~0.3 s a check.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
SCRYPT_MAX_MEMORY = 256 * 1024 * 1024
SESSION_SECONDS = 8 * 3600  # a working day; then sign in again
MIN_PASSWORD_LENGTH = 12
# Failed sign-ins: per operator name and per source address, in one-minute windows.
SIGN_IN_FAILURES_PER_NAME = AttemptLimit("sign-in-failures-name", 5)
SIGN_IN_FAILURES_PER_ADDRESS = AttemptLimit("sign-in-failures-address", 20)


def hash_password(password: str, *, n: int = SCRYPT_N) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, maxmem=SCRYPT_MAX_MEMORY
    )
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${encoded[0]}${encoded[1]}"


def password_matches(password: str, stored: str) -> bool:
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    computed = hashlib.scrypt(
        password.encode(),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        maxmem=SCRYPT_MAX_MEMORY,
        dklen=len(expected),
    )
    return hmac.compare_digest(computed, expected)


@functools.cache
def _nobody(n: int) -> str:
    """Checked when the name is unknown, so an unknown name costs as long as a wrong
    password (made on first use: not at import, which every command does)."""
    return hash_password(secrets.token_urlsafe(16), n=n)


def _session_id(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


@dataclass(frozen=True)
class SignInRefused(Exception):
    """Wrong name or password, or too many tries (``retry_after`` seconds to wait)."""

    retry_after: int | None = None


@dataclass(frozen=True)
class OperatorSession:
    operator: str
    csrf_token: str
    cookie: str = ""  # only when just opened: the value the browser keeps


class OperatorService:
    def __init__(
        self,
        store: Store,
        runs: RunService,
        attempts: AttemptLimits,
        clock: Callable[[], float],
        *,
        scrypt_n: int = SCRYPT_N,
    ) -> None:
        self.store = store
        self.runs = runs
        self.attempts = attempts
        self.clock = clock
        self.scrypt_n = scrypt_n

    async def create(self, name: str, password: str) -> bool:
        """Add an operator (True) or set a known one's password (False, its sessions end)."""
        if not 1 <= len(name) <= 200 or not name.isprintable():
            raise Unprocessable("An operator's name is 1 to 200 printable characters.")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise Unprocessable(f"The password needs {MIN_PASSWORD_LENGTH} characters or more.")
        return await self.store.operators.create(
            name, hash_password(password, n=self.scrypt_n), self.clock()
        )

    async def sign_in(self, name: str, password: str, address: str) -> OperatorSession:
        counted = [(SIGN_IN_FAILURES_PER_NAME, name), (SIGN_IN_FAILURES_PER_ADDRESS, address)]
        retry_after = await self.attempts.retry_after(counted)
        if retry_after is not None:
            raise SignInRefused(retry_after)
        operator = await self.store.operators.get(name)
        matches = password_matches(
            password, operator.password_hash if operator else _nobody(self.scrypt_n)
        )
        if operator is None or not matches:
            await self.attempts.count(counted)
            raise SignInRefused()
        cookie = secrets.token_urlsafe(32)
        now = self.clock()
        record = OperatorSessionRecord(
            _session_id(cookie), name, secrets.token_urlsafe(32), now, now + SESSION_SECONDS
        )
        await self.store.operators.open_session(record)
        return OperatorSession(name, record.csrf_token, cookie)

    async def session(self, cookie: str) -> OperatorSession | None:
        if not cookie:
            return None
        record = await self.store.operators.session(_session_id(cookie), self.clock())
        return OperatorSession(record.operator, record.csrf_token) if record else None

    async def sign_out(self, cookie: str) -> None:
        await self.store.operators.close_session(_session_id(cookie))

    async def acting_as(self, client_id: str, end_user_id: str | None) -> Principal:
        """The client (and end user) an operator acts for: what it may do, no more."""
        client = await self.store.get_client(client_id)
        if client is None or client.disabled:
            raise Unprocessable("The client is gone or disabled: it cannot run actions.")
        return Principal(
            client.id,
            frozenset(client.scopes),
            frozenset(client.allowed_apps) if client.allowed_apps is not None else None,
            end_user_id,
        )

    async def retry(self, run_id: str) -> RunRecord:
        """A new run of a finished run's action with its inputs, for the same client and end
        user, checked as if the client had sent it."""
        run = await self.store.get_run(run_id)
        if run is None:
            raise NotFound(f"No action run {run_id!r}.")
        principal = await self.acting_as(run.client_id, run.end_user_id)
        request = RunRequest(
            f"{run.app_key}.{run.action_key}",
            run.authentication_id,
            run.inputs,
            run.callback_url,
        )
        created, _ = await self.runs.submit(principal, request)
        return created
