"""The table of refused addresses, and IPv6 forms decided by the IPv4 address they carry."""

from __future__ import annotations

import ipaddress

import pytest

from actionruns.sdk.addresses import REFUSED, embedded_ipv4, parse_networks, refusal


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback (RFC 1122)"),
        ("10.1.2.3", "private (RFC 1918)"),
        ("172.16.0.1", "private (RFC 1918)"),
        ("192.168.1.1", "private (RFC 1918)"),
        ("169.254.169.254", "link-local, where cloud metadata lives (RFC 3927)"),
        ("100.64.0.1", "carrier-grade NAT (RFC 6598)"),
        ("0.0.0.0", "'this network' (RFC 791)"),
        ("192.0.0.192", "IETF protocol assignments (RFC 6890)"),
        ("192.0.0.9", "IETF protocol assignments (RFC 6890)"),
        ("192.0.2.1", "TEST-NET-1 (RFC 5737)"),
        ("192.88.99.1", "6to4 relay anycast, deprecated (RFC 7526)"),
        ("198.18.0.1", "benchmarking (RFC 2544)"),
        ("224.0.0.1", "multicast (RFC 5771)"),
        ("240.0.0.1", "reserved (RFC 1112)"),
        ("255.255.255.255", "limited broadcast (RFC 919)"),
        ("::", "unspecified (RFC 4291)"),
        ("::1", "loopback (RFC 4291)"),
        ("fe80::1", "link-local (RFC 4291)"),
        ("fd00:ec2::254", "unique local, private (RFC 4193)"),  # AWS metadata over IPv6
        ("fec0::1", "site-local, deprecated (RFC 3879)"),
        ("ff02::1", "multicast (RFC 4291)"),
        ("::8.8.8.8", "IPv4-compatible, deprecated (RFC 4291 section 2.5.5.1)"),
        ("::127.0.0.1", "IPv4-compatible, deprecated"),
        ("64:ff9b:1::a00:1", "local-use IPv4/IPv6 translation (RFC 8215)"),
        ("2001::1", "Teredo tunnelling (RFC 4380)"),
        ("2001:db8::1", "documentation (RFC 3849)"),
        ("100::1", "discard-only (RFC 6666)"),
        ("5f00::1", "segment routing identifiers (RFC 9602)"),
        ("3fff::1", "documentation (RFC 9637)"),
        ("4000::1", "not global unicast (RFC 4291)"),
        # Forms that carry an IPv4 address: decided by that address.
        ("::ffff:127.0.0.1", "IPv4-mapped (RFC 4291) form of 127.0.0.1, loopback"),
        ("::ffff:10.0.0.1", "IPv4-mapped (RFC 4291) form of 10.0.0.1, private"),
        ("::ffff:0:127.0.0.1", "IPv4-translated (RFC 2765) form of 127.0.0.1, loopback"),
        ("64:ff9b::7f00:1", "NAT64 (RFC 6052) form of 127.0.0.1, loopback"),
        ("64:ff9b::a9fe:a9fe", "NAT64 (RFC 6052) form of 169.254.169.254, link-local"),
        ("2002:7f00:1::1", "6to4 (RFC 3056) form of 127.0.0.1, loopback"),
        ("2002:c0a8:101::", "6to4 (RFC 3056) form of 192.168.1.1, private"),
    ],
)
def test_non_public_addresses_are_refused_with_the_reason(address: str, reason: str) -> None:
    found = refusal(ipaddress.ip_address(address))
    assert found is not None and reason in found, found


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "::ffff:1.1.1.1",
        "64:ff9b::101:101",  # NAT64 of 1.1.1.1
        "2002:101:101::1",  # 6to4 of 1.1.1.1
    ],
)
def test_public_addresses_and_their_embedded_forms_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_the_operator_allows_by_the_address_or_the_one_it_carries() -> None:
    allow = parse_networks("127.0.0.0/8, 64:ff9b::/96")
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allow) is None
    assert refusal(ipaddress.ip_address("2002:7f00:1::"), allow) is None
    assert refusal(ipaddress.ip_address("64:ff9b::a00:1"), allow) is None  # the prefix itself
    assert refusal(ipaddress.ip_address("10.0.0.1"), allow) is not None


def test_embedded_addresses_are_read_from_where_each_form_puts_them() -> None:
    def carried(text: str) -> str | None:
        found = embedded_ipv4(ipaddress.ip_address(text))
        return None if found is None else str(found[0])

    assert carried("::ffff:192.0.2.7") == "192.0.2.7"
    assert carried("64:ff9b::c000:207") == "192.0.2.7"
    assert carried("2002:c000:207:1::5") == "192.0.2.7"
    assert carried("2606:4700::1") is None
    assert carried("192.0.2.7") is None


def test_every_row_of_the_table_names_its_rfc() -> None:
    assert all("(RFC " in row.reason for row in REFUSED)
