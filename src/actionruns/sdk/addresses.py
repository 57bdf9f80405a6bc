"""Which addresses connectors may reach: one table of what is refused, and why.

An address in any network of ``REFUSED`` is refused, with the reason of the most specific
network that holds it, unless the operator allows it (``ACTIONRUNS_OUTBOUND_ALLOW``). The
table does not lean on Python's ``is_global``, whose answers differ between versions and call
NAT64, 6to4 and IPv4-compatible addresses public.

IPv6 addresses that carry an IPv4 address (IPv4-mapped, IPv4-translated, NAT64, 6to4) are
decided by the address they carry: that is where their packets end up.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Refused:
    network: IPNetwork
    reason: str


def _table(*rows: tuple[str, str]) -> tuple[Refused, ...]:
    return tuple(Refused(ipaddress.ip_network(network), reason) for network, reason in rows)


# The IANA special-purpose registries (RFC 6890) and the ranges IPv6 leaves unallocated.
REFUSED = _table(
    ("0.0.0.0/8", "'this network' (RFC 791)"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared address space, carrier-grade NAT (RFC 6598)"),
    ("127.0.0.0/8", "loopback (RFC 1122)"),
    ("169.254.0.0/16", "link-local, where cloud metadata lives (RFC 3927)"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
    ("192.0.2.0/24", "documentation, TEST-NET-1 (RFC 5737)"),
    ("192.88.99.0/24", "6to4 relay anycast, deprecated (RFC 7526)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("198.51.100.0/24", "documentation, TEST-NET-2 (RFC 5737)"),
    ("203.0.113.0/24", "documentation, TEST-NET-3 (RFC 5737)"),
    ("224.0.0.0/4", "multicast (RFC 5771)"),
    ("240.0.0.0/4", "reserved (RFC 1112)"),
    ("255.255.255.255/32", "limited broadcast (RFC 919)"),
    # Only 2000::/3 holds global unicast addresses (RFC 4291 section 2.4, IANA).
    ("::/3", "not global unicast (RFC 4291)"),
    ("4000::/2", "not global unicast (RFC 4291)"),
    ("8000::/1", "not global unicast (RFC 4291)"),
    ("::/128", "unspecified (RFC 4291)"),
    ("::1/128", "loopback (RFC 4291)"),
    ("::/96", "IPv4-compatible, deprecated (RFC 4291 section 2.5.5.1)"),
    ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)"),
    ("100::/64", "discard-only (RFC 6666)"),
    ("2001::/23", "IETF protocol assignments (RFC 2928)"),
    ("2001::/32", "Teredo tunnelling (RFC 4380)"),
    ("2001:db8::/32", "documentation (RFC 3849)"),
    ("3fff::/20", "documentation (RFC 9637)"),
    ("5f00::/16", "segment routing identifiers (RFC 9602)"),
    ("fc00::/7", "unique local, private (RFC 4193)"),
    ("fe80::/10", "link-local (RFC 4291)"),
    ("fec0::/10", "site-local, deprecated (RFC 3879)"),
    ("ff00::/8", "multicast (RFC 4291)"),
)


@dataclass(frozen=True)
class _Embedding:
    network: ipaddress.IPv6Network
    form: str
    shift: int  # how far right the IPv4 address's 32 bits sit from the address's end


# IPv6 forms that carry an IPv4 address, and where in the 128 bits it is.
EMBEDDINGS = (
    _Embedding(ipaddress.IPv6Network("::ffff:0:0/96"), "IPv4-mapped (RFC 4291)", 0),
    _Embedding(ipaddress.IPv6Network("::ffff:0:0:0/96"), "IPv4-translated (RFC 2765)", 0),
    _Embedding(ipaddress.IPv6Network("64:ff9b::/96"), "NAT64 (RFC 6052)", 0),
    _Embedding(ipaddress.IPv6Network("2002::/16"), "6to4 (RFC 3056)", 80),
)


def embedded_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 address carries, and the form that carries it."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    for embedding in EMBEDDINGS:
        if address in embedding.network:
            bits = (int(address) >> embedding.shift) & 0xFFFFFFFF
            return ipaddress.IPv4Address(bits), embedding.form
    return None


def _table_reason(address: IPAddress) -> str | None:
    matches = [row for row in REFUSED if address in row.network]
    if not matches:
        return None
    return max(matches, key=lambda row: row.network.prefixlen).reason


def allowed_by_operator(address: IPAddress, allow: Sequence[IPNetwork]) -> bool:
    """Whether the operator allowed ``address`` (or the IPv4 address it carries)."""
    embedded = embedded_ipv4(address)
    carried = embedded[0] if embedded is not None else None
    return any(address in network or (carried and carried in network) for network in allow)


def refusal(address: IPAddress, allow: Sequence[IPNetwork] = ()) -> str | None:
    """Why ``address`` may not be reached, or None if it may (public, or allowed)."""
    if allowed_by_operator(address, allow):
        return None
    embedded = embedded_ipv4(address)
    if embedded is None:
        return _table_reason(address)
    ipv4, form = embedded
    reason = _table_reason(ipv4)
    return None if reason is None else f"{form} form of {ipv4}, {reason}"


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """Parse ``ACTIONRUNS_OUTBOUND_ALLOW``: comma-separated CIDRs or addresses."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )
