"""A real SMTP server for tests (aiosmtpd): plain, STARTTLS or TLS, with a login, and what it
received; its certificate is self-signed for 127.0.0.1 (trusted through SSL_CERT_FILE)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import free_port


@dataclass
class Mailbox:
    """What the SMTP server received: envelopes and parsed messages."""

    envelopes: list[Envelope] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[Message]:
        return [
            message_from_bytes(raw_content(envelope), policy=policy.default)
            for envelope in self.envelopes
        ]


def raw_content(envelope: Envelope) -> bytes:
    """The message as received: without ``decode_data`` the server keeps it as bytes."""
    content = envelope.content or b""
    assert isinstance(content, bytes)
    return content


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate and its key for 127.0.0.1, written into ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "actionruns test smtp")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def running_smtp(
    mailbox: Mailbox,
    *,
    security: str,
    certificate: tuple[Path, Path],
    login: tuple[str, str],
) -> Iterator[int]:
    """An SMTP server on a free loopback port (yielded) that takes ``login``, delivering to
    ``mailbox``; ``security`` is none, starttls (required) or tls."""

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        given = (data.login, data.password) if isinstance(data, LoginPassword) else None
        return AuthResult(success=given == tuple(part.encode() for part in login), handled=False)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    options: dict[str, Any] = {"authenticator": authenticate, "auth_require_tls": False}
    if security == "starttls":
        options |= {"tls_context": context, "require_starttls": True}
    if security == "tls":
        options |= {"ssl_context": context}
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
