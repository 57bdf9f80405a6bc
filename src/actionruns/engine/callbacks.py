"""Pushing finished runs to their ``callback_url``, signed, retried as Zapier retries.

Deliveries live in the run table (``callback_status``), so a delivery owed when a process
dies is made by the next one. Each carries two signatures: ``Zapier-Callback-Signature``, an
RS256 JWT checked against /.well-known/jwks.json (see ``signing``), and
``X-Actionruns-Signature``, HMAC-SHA256 over ``"<t>.<body>"`` with the client's signing secret
in the common ``t=<unix>,v1=<hex>`` scheme.

As Zapier's callbacks (docs.zapier.com, *Receiving Action Run Callbacks*): network errors and
5xx answers are retried with exponential backoff, 3 attempts in all by default; any other
answer but a 2xx (a 4xx: the receiver refused it) ends the deliveries at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx2
import structlog

from actionruns.client.signatures import SIGNATURE_HEADER, sign
from actionruns.config import Settings
from actionruns.engine import tracing
from actionruns.engine.documents import run_document
from actionruns.engine.events import RunEvents
from actionruns.engine.metrics import Metrics
from actionruns.engine.signing import CallbackSigner
from actionruns.sdk.outbound import OutboundGuard, guard_error
from actionruns.store import DeliveryRecord, RunRecord, Store
from actionruns.vault import Vault

log = structlog.get_logger(__name__)

JWT_SIGNATURE_HEADER = "Zapier-Callback-Signature"
DELIVERY_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 1.0
BATCH = 20


def client_secret_owner(client_id: str) -> str:
    return f"client:{client_id}"


class CallbackDispatcher:
    def __init__(
        self,
        store: Store,
        vault: Vault,
        signer: CallbackSigner,
        guard: OutboundGuard,
        events: RunEvents,
        settings: Settings,
        clock: Callable[[], float],
        metrics: Metrics,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.store = store
        self.vault = vault
        self.signer = signer
        self.metrics = metrics
        self.events = events
        self.settings = settings
        self.clock = clock
        self._client = httpx2.AsyncClient(
            transport=transport or guard.http_transport(),
            timeout=DELIVERY_TIMEOUT_SECONDS,
            follow_redirects=False,
            trust_env=False,
        )
        self._secrets: dict[str, bytes] = {}
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                self.events.callbacks_due.clear()
                try:
                    due = await self.store.lease_callbacks(
                        self.clock(), BATCH, self.clock() + DELIVERY_TIMEOUT_SECONDS * 3
                    )
                    if due:
                        await asyncio.gather(*(self.deliver(run) for run in due))
                        continue
                except Exception:
                    log.exception("callback_loop_failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.events.callbacks_due.wait(), POLL_SECONDS)
        finally:
            await self._client.aclose()

    def stop(self) -> None:
        self._stopping.set()
        self.events.callbacks_due.set()

    async def _secret(self, client_id: str) -> bytes | None:
        if client_id not in self._secrets:
            client = await self.store.get_client(client_id)
            if client is None:
                return None
            self._secrets[client_id] = self.vault.decrypt(
                client.signing_secret, owner=client_secret_owner(client_id)
            )
        return self._secrets[client_id]

    async def deliver(self, run: RunRecord) -> None:
        """One attempt; whatever happens is recorded on the run, so no delivery stays
        pending for ever: delivered, retried later, or failed with why; and the attempt
        itself, for the run's page."""
        with tracing.run_step("callback", run, **{"actionruns.attempt": run.callback_attempts}):
            await self._deliver(run)

    async def _deliver(self, run: RunRecord) -> None:
        started_at, started = self.clock(), time.perf_counter()
        try:
            outcome = await self._attempt(run)
        except Exception as exc:  # a bug or a store hiccup: it counts as a failed attempt
            log.exception("callback_attempt_crashed", run_id=run.id, request_id=run.request_id)
            outcome = Delivery(False, f"the delivery failed: {type(exc).__name__}")

        def attempt(result: str) -> DeliveryRecord:
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            return DeliveryRecord(
                run.id,
                run.callback_attempts,
                started_at,
                duration_ms,
                outcome.status,
                result,
                outcome.reason,
            )

        tracing.note(
            {"http.response.status_code": outcome.status},
            failed=None if outcome.delivered else outcome.reason,
        )
        if outcome.delivered:
            log.info(
                "callback_delivered",
                run_id=run.id,
                request_id=run.request_id,
                attempts=run.callback_attempts,
                status=outcome.status,
            )
            self.metrics.deliveries.labels("callback", "delivered").inc()
            await self.store.set_callback_state(
                run.id, "delivered", None, delivery=attempt("delivered")
            )
            return
        # Network errors and 5xx are retried; any other answer ends the deliveries.
        final = outcome.final or (outcome.status is not None and outcome.status < 500)
        if final or run.callback_attempts >= self.settings.callback_max_attempts:
            log.warning(
                "callback_failed",
                run_id=run.id,
                request_id=run.request_id,
                attempts=run.callback_attempts,
                reason=outcome.reason,
            )
            self.metrics.deliveries.labels("callback", "failed").inc()
            await self.store.set_callback_state(
                run.id, "failed", None, outcome.reason, delivery=attempt("failed")
            )
            return
        delay = min(
            3600.0, self.settings.callback_retry_base_seconds * 2 ** (run.callback_attempts - 1)
        )
        log.info(
            "callback_retry",
            run_id=run.id,
            request_id=run.request_id,
            attempts=run.callback_attempts,
            reason=outcome.reason,
            delay=delay,
        )
        self.metrics.deliveries.labels("callback", "retry").inc()
        await self.store.set_callback_state(
            run.id, "pending", self.clock() + delay, outcome.reason, delivery=attempt("retry")
        )

    async def _attempt(self, run: RunRecord) -> Delivery:
        assert run.callback_url is not None
        secret = await self._secret(run.client_id)
        if secret is None:
            return Delivery(False, "the client no longer exists", final=True)
        document = run_document(run, delivery=False)
        body = json.dumps({"data": document}, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "actionruns-callbacks/0.1",
            SIGNATURE_HEADER: sign(secret, int(time.time()), body),
            JWT_SIGNATURE_HEADER: await self.signer.sign_callback(run.id, body),
            "X-Actionruns-Run-Id": run.id,
            "X-Actionruns-Delivery-Attempt": str(run.callback_attempts),
        }
        return await post(self._client, run.callback_url, body, headers)


@dataclass(frozen=True)
class Delivery:
    """One attempt to post a delivery: done, or why not; ``status`` is the receiver's
    answer, if it gave one; ``final`` when trying again cannot help (the outbound guard
    refused the destination, or the URL cannot be sent to)."""

    delivered: bool
    reason: str | None = None
    status: int | None = None
    final: bool = False


async def post(
    client: httpx2.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> Delivery:
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx2.HTTPError as exc:
        refused = guard_error(exc)
        if refused is not None:
            return Delivery(False, refused.detail, final=not refused.retryable)
        return Delivery(False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    except (httpx2.InvalidURL, UnicodeError, ValueError) as exc:
        return Delivery(False, f"the URL cannot be sent to: {exc}", final=True)
    if 200 <= response.status_code < 300:
        return Delivery(True, status=response.status_code)
    return Delivery(
        False, f"the receiver answered HTTP {response.status_code}", response.status_code
    )
