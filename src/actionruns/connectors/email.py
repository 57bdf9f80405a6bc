"""Email over SMTP: send a message from the user's own mail server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import aiosmtplib

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Choice,
    Context,
    ExpiredAuthError,
    FieldType,
    HaltError,
    InputField,
    OutputField,
    TransientError,
    UnreachableError,
)

SMTP_TIMEOUT = 30.0
SECURITY_MODES = ("none", "starttls", "tls")


def _address(text: str, field: str) -> str:
    """A bare ``local@domain`` address, refused early instead of by the server."""
    try:
        address = Address(addr_spec=text.strip())
    except (ValueError, IndexError) as exc:
        raise HaltError(f"{field}: {text!r} is not an email address ({exc}).") from None
    if not address.username or "." not in address.domain:
        raise HaltError(f"{field}: {text!r} is not an email address.")
    return address.addr_spec


def _addresses(values: Sequence[str] | None, field: str) -> list[str]:
    return [_address(value, field) for value in values or ()]


@asynccontextmanager
async def _smtp(ctx: Context) -> AsyncIterator[aiosmtplib.SMTP]:
    """A logged-in SMTP session over a socket the outbound guard has vetted."""
    credentials = ctx.credentials
    host = str(credentials["host"])
    port = int(credentials["port"])
    security = credentials.get("security", "starttls")
    try:
        sock = await ctx.guard.connect(host, port, timeout=SMTP_TIMEOUT)
    except OSError as exc:
        raise UnreachableError(f"Cannot connect to the SMTP server {host}:{port}: {exc}") from None
    smtp = aiosmtplib.SMTP(
        hostname=host,
        sock=sock,
        use_tls=security == "tls",
        start_tls=security == "starttls",
        timeout=SMTP_TIMEOUT,
    )
    try:
        await smtp.connect()
        if credentials.get("username"):
            await smtp.login(str(credentials["username"]), str(credentials.get("password", "")))
        yield smtp
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise ExpiredAuthError(f"The SMTP server refused the login: {exc.message}") from None
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(f"{error.recipient} ({error.message})" for error in exc.recipients)
        raise HaltError(f"The SMTP server refused every recipient: {refused}") from None
    except aiosmtplib.SMTPSenderRefused as exc:
        raise HaltError(f"The SMTP server refused the sender {exc.sender}: {exc.message}") from None
    except aiosmtplib.SMTPResponseException as exc:
        detail = f"The SMTP server answered {exc.code}: {exc.message}"
        # 4yz replies are transient by RFC 5321; 5yz are permanent.
        if 400 <= exc.code < 500:
            raise TransientError(detail, meta={"smtp_code": exc.code}) from None
        raise HaltError(detail, meta={"smtp_code": exc.code}) from None
    except (
        aiosmtplib.SMTPConnectError,
        aiosmtplib.SMTPTimeoutError,
        aiosmtplib.SMTPServerDisconnected,
    ) as exc:
        raise UnreachableError(f"SMTP connection to {host}:{port} failed: {exc}") from None
    except aiosmtplib.SMTPException as exc:
        # Missing STARTTLS or AUTH support: retrying cannot help, the settings must change.
        raise HaltError(f"SMTP with {host}:{port} failed: {exc}") from None
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except aiosmtplib.SMTPException:
                smtp.close()
        sock.close()


def _message(credentials: Mapping[str, Any], inputs: Mapping[str, Any]) -> EmailMessage:
    if not inputs.get("body") and not inputs.get("html_body"):
        raise HaltError("Give a body, an HTML body or both.")
    sender = _address(str(credentials["from_email"]), "from_email")
    message = EmailMessage()
    try:
        message["From"] = Address(inputs.get("from_name") or "", addr_spec=sender)
        message["To"] = ", ".join(_addresses(inputs["to"], "to"))
        if inputs.get("cc"):
            message["Cc"] = ", ".join(_addresses(inputs["cc"], "cc"))
        if inputs.get("reply_to"):
            message["Reply-To"] = _address(inputs["reply_to"], "reply_to")
        message["Subject"] = inputs["subject"]
    except ValueError as exc:  # e.g. a line break smuggled into a header
        raise HaltError(f"The message headers are not valid: {exc}") from None
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    if inputs.get("body"):
        message.set_content(inputs["body"])
        if inputs.get("html_body"):
            message.add_alternative(inputs["html_body"], subtype="html")
    else:
        message.set_content(inputs["html_body"], subtype="html")
    return message


async def send_email(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    message = _message(ctx.credentials, inputs)
    recipients = [
        *_addresses(inputs["to"], "to"),
        *_addresses(inputs.get("cc"), "cc"),
        *_addresses(inputs.get("bcc"), "bcc"),
    ]
    sender = _address(str(ctx.credentials["from_email"]), "from_email")
    async with _smtp(ctx) as smtp:
        refused, reply = await smtp.send_message(message, sender=sender, recipients=recipients)
    return {
        "message_id": message["Message-ID"],
        "accepted": [address for address in recipients if address not in refused],
        "refused": {address: error.message for address, error in refused.items()},
        "server_reply": reply,
    }


async def test_connection(ctx: Context) -> str:
    async with _smtp(ctx) as smtp:
        await smtp.noop()
    return f"{ctx.credentials['from_email']} via {ctx.credentials['host']}"


def _recipients(key: str, label: str, *, required: bool = False) -> InputField:
    return InputField(key, label, required=required, list=True, help_text="Email addresses.")


app = App(
    key="email",
    title="Email (SMTP)",
    description="Send email through your own SMTP server.",
    auth=Auth.custom(
        [
            InputField(
                "host",
                "SMTP host",
                FieldType.HOST,
                required=True,
                placeholder="smtp.example.com",
                help_text="Your mail provider's SMTP server.",
            ),
            InputField(
                "port",
                "Port",
                FieldType.INTEGER,
                required=True,
                default=587,
                help_text="587 for STARTTLS, 465 for TLS, 25 without encryption.",
            ),
            InputField(
                "security",
                "Security",
                required=True,
                default="starttls",
                choices=(
                    Choice("starttls", "STARTTLS (usually port 587)"),
                    Choice("tls", "TLS from the start (usually port 465)"),
                    Choice("none", "None (only on trusted networks)"),
                ),
                help_text="How the connection is encrypted.",
            ),
            InputField("username", "Username", help_text="Leave empty if the server needs none."),
            InputField(
                "password",
                "Password",
                FieldType.PASSWORD,
                help_text="The account's password or an app password; stored encrypted.",
            ),
            InputField(
                "from_email",
                "From address",
                required=True,
                placeholder="support@example.com",
                help_text="The sender of every message sent with this account.",
            ),
        ]
    ),
    test=test_connection,
    categories=("email",),
    actions=[
        Action(
            "send_email",
            "Send email",
            "Sends an email with a plain text and/or HTML body.",
            send_email,
            inputs=[
                _recipients("to", "To", required=True),
                _recipients("cc", "Cc"),
                _recipients("bcc", "Bcc"),
                InputField("subject", "Subject", required=True, help_text="The subject line."),
                InputField("body", "Body", FieldType.TEXT, help_text="Plain text."),
                InputField("html_body", "HTML body", FieldType.CODE, help_text="HTML version."),
                InputField("reply_to", "Reply to", help_text="An email address."),
                InputField("from_name", "From name", help_text="Shown beside the address."),
            ],
            outputs=[
                OutputField("message_id", "Message ID", sample="<1700000000.1@example.com>"),
                OutputField("accepted", "Accepted recipients", sample=["ada@example.com"]),
                OutputField("refused", "Refused recipients", FieldType.DICT, sample={}),
            ],
            sample={
                "message_id": "<1700000000.1@example.com>",
                "accepted": ["ada@example.com"],
                "refused": {},
                "server_reply": "250 OK",
            },
        ),
    ],
)
