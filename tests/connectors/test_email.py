"""The email connector against a real SMTP server (aiosmtpd): plain, STARTTLS and TLS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from actionruns.cli.main import app as cli
from actionruns.connectors.email import app
from actionruns.sdk import ExpiredAuthError, HaltError, TransientError
from actionruns.sdk.context import open_context
from actionruns.sdk.fields import validate_inputs
from actionruns.sdk.outbound import OutboundGuard
from tests.conftest import LOOPBACK, ApiClient, ServiceFactory, free_port
from tests.smtp import Mailbox, running_smtp, self_signed_certificate

send_email = app.actions[0]
USER, PASSWORD = "mailer", "s3cret-smtp-pass"


def _decoded_text(part: Message) -> str:
    """A single-part body, its transfer encoding undone, read as UTF-8."""
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return str(payload, "utf-8")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, trusted by the connector through SSL_CERT_FILE."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp_server(
    request: pytest.FixtureRequest,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Mailbox, dict[str, Any]]]:
    """A running aiosmtpd server in the mode the test asks for, and credentials to reach it."""
    security = getattr(request, "param", "none")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    mailbox = Mailbox()
    with running_smtp(
        mailbox, security=security, certificate=certificate, login=(USER, PASSWORD)
    ) as port:
        yield (
            mailbox,
            {
                "host": "127.0.0.1",
                "port": port,
                "security": security,
                "username": USER,
                "password": PASSWORD,
                "from_email": "support@example.com",
            },
        )


@pytest.fixture
async def guard() -> AsyncIterator[OutboundGuard]:
    guard = OutboundGuard(LOOPBACK)
    yield guard
    await guard.aclose()


async def send(guard: OutboundGuard, credentials: Mapping[str, Any], **inputs: Any) -> Any:
    async with open_context(app.auth, credentials, guard, app_key="email") as ctx:
        return await send_email.perform(ctx, validate_inputs(send_email.static_inputs, inputs))


@pytest.mark.parametrize("smtp_server", ["none", "starttls", "tls"], indirect=True)
async def test_a_message_arrives_in_each_security_mode(
    smtp_server: tuple[Mailbox, dict[str, Any]], guard: OutboundGuard
) -> None:
    mailbox, credentials = smtp_server
    result = await send(
        guard,
        credentials,
        to=["ada@example.com"],
        cc="grace@example.com",
        bcc=["hidden@example.com"],
        subject="Your order shipped",
        body="It is on its way.",
        html_body="<p>It is on its <b>way</b>.</p>",
        reply_to="help@example.com",
        from_name="Example Shop",
    )

    assert result["accepted"] == ["ada@example.com", "grace@example.com", "hidden@example.com"]
    [envelope] = mailbox.envelopes
    assert envelope.mail_from == "support@example.com"
    assert envelope.rcpt_tos == result["accepted"]
    [message] = mailbox.messages
    assert message["From"] == "Example Shop <support@example.com>"
    assert message["To"] == "ada@example.com"
    assert message["Cc"] == "grace@example.com"
    assert message["Bcc"] is None
    assert message["Reply-To"] == "help@example.com"
    assert message["Subject"] == "Your order shipped"
    assert message["Message-ID"] == result["message_id"]
    parts = {part.get_content_type(): part for part in message.walk()}
    assert "It is on its way." in _decoded_text(parts["text/plain"])
    assert "<b>way</b>" in _decoded_text(parts["text/html"])


async def test_unicode_and_html_only(
    smtp_server: tuple[Mailbox, dict[str, Any]], guard: OutboundGuard
) -> None:
    mailbox, credentials = smtp_server
    await send(
        guard,
        credentials,
        to=["zoe@example.com"],
        subject="Grüße ✓",
        html_body="<p>héllo</p>",
        from_name="Zoë",
    )
    [message] = mailbox.messages
    assert message["Subject"] == "Grüße ✓"
    assert message["From"] == "Zoë <support@example.com>"
    assert message.get_content_type() == "text/html"
    assert "héllo" in _decoded_text(message)


async def test_wrong_password_expires_the_authentication(
    smtp_server: tuple[Mailbox, dict[str, Any]], guard: OutboundGuard
) -> None:
    mailbox, credentials = smtp_server
    with pytest.raises(ExpiredAuthError, match="refused the login"):
        await send(
            guard, credentials | {"password": "wrong"}, to="a@example.com", subject="s", body="b"
        )
    assert mailbox.envelopes == []


async def test_refused_recipients(
    smtp_server: tuple[Mailbox, dict[str, Any]], guard: OutboundGuard
) -> None:
    mailbox, credentials = smtp_server
    mailbox.refuse = {"gone@example.com"}
    partly = await send(
        guard, credentials, to=["gone@example.com", "ok@example.com"], subject="s", body="b"
    )
    assert partly["accepted"] == ["ok@example.com"]
    assert "mailbox unavailable" in partly["refused"]["gone@example.com"]
    with pytest.raises(HaltError, match="refused every recipient"):
        await send(guard, credentials, to=["gone@example.com"], subject="s", body="b")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"to": ["not-an-address"], "subject": "s", "body": "b"}, "not an email address"),
        ({"to": ["a@example.com"], "subject": "s"}, "Give a body"),
        ({"to": ["a@example.com"], "subject": "s\r\nBcc: x@evil.test", "body": "b"}, "headers"),
    ],
)
async def test_bad_messages_halt_before_connecting(
    smtp_server: tuple[Mailbox, dict[str, Any]],
    guard: OutboundGuard,
    inputs: dict[str, Any],
    message: str,
) -> None:
    mailbox, credentials = smtp_server
    with pytest.raises(HaltError, match=message):
        await send(guard, credentials, **inputs)
    assert mailbox.envelopes == []


@pytest.mark.parametrize("smtp_server", ["none"], indirect=True)
async def test_starttls_is_never_silently_skipped(
    smtp_server: tuple[Mailbox, dict[str, Any]], guard: OutboundGuard
) -> None:
    mailbox, credentials = smtp_server
    with pytest.raises(HaltError, match="STARTTLS"):
        await send(
            guard, credentials | {"security": "starttls"}, to="a@x.example", subject="s", body="b"
        )
    assert mailbox.envelopes == []


async def test_unreachable_server_is_transient(guard: OutboundGuard) -> None:
    credentials = {"host": "127.0.0.1", "port": free_port(), "from_email": "a@example.com"}
    with pytest.raises(TransientError, match="Cannot connect"):
        await send(guard, credentials, to="b@example.com", subject="s", body="b")


async def test_private_hosts_are_refused_by_default() -> None:
    guard = OutboundGuard()
    credentials = {"host": "127.0.0.1", "port": 25, "from_email": "a@example.com"}
    with pytest.raises(HaltError, match="not allowed"):
        await send(guard, credentials, to="b@example.com", subject="s", body="b")


async def test_connection_test(
    smtp_server: tuple[Mailbox, dict[str, Any]], guard: OutboundGuard
) -> None:
    _, credentials = smtp_server
    assert app.test is not None
    async with open_context(app.auth, credentials, guard, app_key="email") as ctx:
        assert await app.test(ctx) == "support@example.com via 127.0.0.1"


async def test_end_to_end_over_http(
    start_service: ServiceFactory, smtp_server: tuple[Mailbox, dict[str, Any]]
) -> None:
    mailbox, credentials = smtp_server
    service = await start_service()
    acme: ApiClient = await service.new_client("acme")

    apps = (await acme.get("/v2/apps", params={"limit": 100})).json()["data"]
    email = next(item for item in apps if item["slug"] == "email")
    assert {field["id"] for field in email["auth_fields"]} >= {"host", "port", "password"}

    refused = await acme.post(
        "/v2/authentications",
        json={
            "data": {
                "app": "email",
                "title": "wrong",
                "authentication_fields": credentials | {"password": "nope"},
            }
        },
    )
    assert refused.status_code == 400, refused.text
    assert "nope" not in refused.text

    authentication = await acme.connect("email", credentials, title="Support mailbox")
    listed = await acme.get("/v2/authentications", params={"app": "email"})
    assert PASSWORD not in listed.text
    assert listed.json()["data"][0]["title"] == "Support mailbox"

    run_id = await acme.run(
        "email.send_email",
        {"to": "ada@example.com", "subject": "Welcome", "body": "Hello Ada"},
        authentication=authentication,
    )
    run = await acme.wait(run_id)

    assert run["status"] == "success", run
    assert run["results"][0]["accepted"] == ["ada@example.com"]
    [message] = mailbox.messages
    assert (message["To"], message["Subject"]) == ("ada@example.com", "Welcome")
    assert "Hello Ada" in _decoded_text(message)
    assert PASSWORD not in (await acme.get(f"/v2/action-runs/{run_id}")).text


async def test_send_from_the_terminal(
    start_service: ServiceFactory,
    smtp_server: tuple[Mailbox, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mailbox, credentials = smtp_server
    service = await start_service(workers=False)
    acme: ApiClient = await service.new_client("acme")
    authentication = await acme.connect("email", credentials)
    monkeypatch.setenv("ACTIONRUNS_HOME", str(service.engine.settings.home))
    monkeypatch.setenv("ACTIONRUNS_OUTBOUND_ALLOW", "127.0.0.0/8")
    command = [
        "run",
        "email.send_email",
        "--auth",
        authentication,
        "--input",
        "to=ada@example.com",
        "--input",
        "to=grace@example.com",
        "--input",
        "subject=From the terminal",
        "--input",
        "body=Hi",
        "--wait",
    ]

    # The CLI opens the same database in its own engine, as an operator's shell would.
    result = await asyncio.to_thread(CliRunner().invoke, cli, command)

    assert result.exit_code == 0, result.output
    assert '"status": "success"' in result.output
    [message] = mailbox.messages
    assert message["To"] == "ada@example.com, grace@example.com"
    assert PASSWORD not in result.output
