"""The real servers these machines run (Redis, RabbitMQ, MQTT, NATS, MariaDB) for the data
connectors' tests: without one the tests that need it skip and say why; under CI they fail."""

from __future__ import annotations

import os
import socket

import pytest


def require_server(name: str, host: str, port: int) -> None:
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        message = f"{name} is not reachable at {host}:{port} ({exc})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}: under CI it must run", pytrace=False)
    pytest.skip(message)
