"""Run callbacks' ``X-Actionruns-Signature``: ``t=<unix>,v1=<hex>``, HMAC-SHA256 over
``"<t>.<body>"`` keyed with the client's ``callback_signing_secret``.

The service signs with ``sign`` (``actionruns.engine.callbacks`` imports it from here) and a
receiver checks with ``verify``, so the two cannot drift. Standard library only: a receiver
may use it from any web framework.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Actionruns-Signature"
DEFAULT_TOLERANCE_SECONDS = 300.0


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: bytes,
    header: str,
    body: bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver does: check the signature and that it is recent (no replays)."""
    return refusal(secret, header, body, tolerance=tolerance, now=now) is None


def refusal(
    secret: bytes,
    header: str,
    body: bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> str | None:
    """Why the signature ``header`` does not hold for ``body``, or None when it does."""
    parts = dict(item.strip().split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return "the signature has no t=<unix time>"
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return f"the signature is more than {tolerance:g} seconds from now (a replay?)"
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        return "the signature does not match the body and the secret"
    return None
