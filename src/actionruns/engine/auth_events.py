"""``authentication.expired`` and ``authentication.recovered``, posted to the client's events
URL, so a partner can ask its user to reconnect (and stop asking once they have).

They follow the Standard Webhooks specification, as Zapier's connection webhooks do
(docs.zapier.com, *Connection webhooks: verify signatures*): ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` headers, signed with the client's ``whsec_``
secret, so a partner checks them with any Standard Webhooks library; the
``X-Actionruns-Signature`` of run callbacks comes too. As there, a 2xx acknowledges, 429, 5xx
and network errors are retried with backoff, any other 4xx is not.

Deliveries are retried a few times in the process that saw the change; they are notices, not
records: the authentication's ``is_expired`` is the truth to poll.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx2
import structlog
from standardwebhooks import Webhook

from actionruns.client.signatures import SIGNATURE_HEADER, sign
from actionruns.engine.callbacks import client_secret_owner, post
from actionruns.engine.metrics import Metrics
from actionruns.sdk.outbound import OutboundGuard
from actionruns.store import AuthenticationRecord, Store
from actionruns.vault import Vault

log = structlog.get_logger(__name__)

DELIVERY_ATTEMPTS = 5
DELIVERY_TIMEOUT_SECONDS = 10.0


def event_document(event: str, record: AuthenticationRecord, now: float) -> dict[str, Any]:
    return {
        "type": event,
        "created_at": datetime.fromtimestamp(now, UTC).isoformat(),
        "data": {
            "type": "authentication",
            "id": record.id,
            "app": record.app_key,
            "end_user": record.end_user_id,
            "title": record.title,
            "is_expired": record.is_expired,
        },
    }


def standard_webhook(secret: bytes) -> Webhook:
    """The Standard Webhooks signer for a client's ``whsec_`` secret, keyed as the
    specification's libraries key it (the base64 after the prefix), so theirs verify. A secret
    from before secrets were base64 is keyed with its bytes: only the actionruns signature
    checks then."""
    try:
        return Webhook(secret.decode())
    except (binascii.Error, ValueError):
        return Webhook(secret)


class AuthenticationEvents:
    def __init__(
        self,
        store: Store,
        vault: Vault,
        guard: OutboundGuard,
        clock: Callable[[], float],
        metrics: Metrics,
        *,
        retry_base_seconds: float = 2.0,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.store = store
        self.vault = vault
        self.clock = clock
        self.metrics = metrics
        self.retry_base_seconds = retry_base_seconds
        self._client = httpx2.AsyncClient(
            transport=transport or guard.http_transport(),
            timeout=DELIVERY_TIMEOUT_SECONDS,
            follow_redirects=False,
            trust_env=False,
        )
        self._deliveries: set[asyncio.Task[None]] = set()

    async def __call__(self, event: str, record: AuthenticationRecord) -> None:
        client = await self.store.get_client(record.client_id)
        if client is None or not client.events_url:
            return
        secret = self.vault.decrypt(client.signing_secret, owner=client_secret_owner(client.id))
        body = json.dumps(event_document(event, record, self.clock())).encode()
        message_id = "msg_" + uuid.uuid4().hex  # the same on every attempt: deduplicate on it
        task = asyncio.create_task(
            self._deliver(client.events_url, secret, message_id, body, event)
        )
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(
        self, url: str, secret: bytes, message_id: str, body: bytes, event: str
    ) -> None:
        standard = standard_webhook(secret)
        for attempt in range(DELIVERY_ATTEMPTS):
            now = self.clock()
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(secret, int(now), body),
                "webhook-id": message_id,
                "webhook-timestamp": str(int(now)),
                "webhook-signature": standard.sign(
                    message_id, datetime.fromtimestamp(now, UTC), body
                ),
            }
            outcome = await post(self._client, url, body, headers)
            if outcome.delivered:
                self.metrics.deliveries.labels("event", "delivered").inc()
                return
            # 429 and 5xx are retried, as are network errors; any other answer is final.
            answered = outcome.status is not None and outcome.status < 500
            final = outcome.final or (answered and outcome.status != 429)
            last = final or attempt + 1 == DELIVERY_ATTEMPTS
            log.warning(
                "event_refused" if final else "event_delivery_failed",
                event_type=event,
                attempt=attempt + 1,
                reason=outcome.reason,
            )
            self.metrics.deliveries.labels("event", "failed" if last else "retry").inc()
            if last:
                return
            await asyncio.sleep(self.retry_base_seconds * 2**attempt)

    async def aclose(self) -> None:
        for task in list(self._deliveries):
            task.cancel()
        await asyncio.gather(*self._deliveries, return_exceptions=True)
        await self._client.aclose()
