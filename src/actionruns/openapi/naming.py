"""Keys and titles made from a description's names: ``CreateMessage`` → ``create_message``,
``issues/create-comment`` → ``issues_create_comment``, ``account_sid`` → "Account SID"."""

from __future__ import annotations

import hashlib
import re

# Words written in capitals in titles.
ACRONYMS = {
    "api",
    "id",
    "ids",
    "url",
    "urls",
    "uri",
    "sid",
    "sms",
    "mms",
    "html",
    "json",
    "xml",
    "csv",
    "pdf",
    "ip",
    "dns",
    "ssl",
    "tls",
    "ssh",
    "sso",
    "saml",
    "oauth",
    "jwt",
    "http",
    "https",
    "uuid",
    "gid",
    "cc",
    "bcc",
    "vat",
    "sku",
    "iso",
    "utc",
    "cname",
    "cdn",
    "crm",
    "gpg",
    "mfa",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")
MAX_KEY = 63


def words(name: str) -> list[str]:
    return [word for word in _NOT_WORD.split(_CAMEL.sub(" ", name)) if word]


def snake(name: str, *, fallback: str = "value") -> str:
    """A snake_case key: lower case letters, digits and ``_``, starting with a letter."""
    key = "_".join(word.lower() for word in words(name)) or fallback
    if not key[0].isalpha():
        key = f"{fallback}_{key}"
    return key


def limited(key: str, limit: int = MAX_KEY) -> str:
    """``key`` within ``limit`` characters; a cut key ends with a hash of the whole."""
    if len(key) <= limit:
        return key
    suffix = hashlib.sha256(key.encode()).hexdigest()[:6]
    return f"{key[: limit - 7].rstrip('_')}_{suffix}"


def title(name: str) -> str:
    """A readable title: "account_sid" → "Account SID", "listRepos" → "List repos"."""
    parts = words(name)
    if not parts:
        return name
    shown = [part.upper() if part.lower() in ACRONYMS else part.lower() for part in parts]
    first = shown[0]
    shown[0] = first if first.isupper() and len(first) > 1 else first.capitalize()
    return " ".join(shown)


def unique(key: str, taken: set[str], limit: int = MAX_KEY) -> str:
    """``key``, or ``key_2``, ``key_3``… when taken; the result is added to ``taken``."""
    candidate = limited(key, limit)
    number = 2
    while candidate in taken:
        candidate = limited(f"{key}_{number}", limit)
        number += 1
    taken.add(candidate)
    return candidate


def first_sentence(text: str, limit: int = 500) -> str:
    """A description's first paragraph, without markdown emphasis, within ``limit``."""
    paragraph = text.strip().split("\n\n", 1)[0].replace("\n", " ").strip()
    paragraph = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", paragraph)  # [text](link) → text
    paragraph = re.sub(r"<[^>]+>", "", paragraph)  # stray HTML tags
    paragraph = paragraph.replace("**", "").replace("`", "")
    if len(paragraph) <= limit:
        return paragraph
    cut = paragraph[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
