"""The address rules of engine/ssrf.py, checked directly (pure functions, no network).

The behaviour through the CLI is in test_http_ssrf.py; here the numeric-IPv4 parser is held
against the C library's own ``inet_aton`` so that no spelling a resolver accepts slips by.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from buttons_engine.engine import ssrf

SPELLINGS = [
    "127.0.0.1",
    "2130706433",
    "0x7f000001",
    "0X7F000001",
    "0177.0.0.1",
    "0177.0000.0000.0001",
    "127.1",
    "127.0.1",
    "0x7f.1",
    "0x7f.0.0.0x1",
    "017700000001",
    "0",
    "00",
    "0x0",
    "1.2.3.4",
    "255.255.255.255",
    "4294967295",
    "4294967296",
    "256.1.1.1",
    "1.256.1.1",
    "1.1.65536",
    "1.1.65535",
    "1.16777216",
    "1.16777215",
    "08.1.1.1",
    "0x1g.1.1.1",
    "1..1",
    ".1.1.1",
    "1.1.1.1.1",
    "example.com",
    "cafe",
    "0xcafe",
    "deadbeef",
    "-1",
    "+1",
    "1e3",
    "",
    "0x",
    "0x.1",
    "1.0x",
    "1_0",
    "01_0",
    "0xf_f",
    "\u0661\u0662\u0667.0.0.1",
    " 1",
]


@pytest.mark.parametrize("text", SPELLINGS)
def test_loose_ipv4_matches_inet_aton(text: str) -> None:
    try:
        expected = ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        expected = None
    assert ssrf.parse_loose_ipv4(text) == expected


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("127.0.0.1", "loopback"),
        ("10.255.255.255", "private"),
        ("172.31.0.1", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.127.255.255", "carrier-grade NAT"),
        ("0.0.0.0", "this-network"),  # noqa: S104
        ("239.1.1.1", "multicast"),
        ("255.255.255.255", "reserved"),
        ("::1", "loopback"),
        ("fd12::1", "unique-local"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("64:ff9b::808:808", "NAT64"),
        ("64:ff9b:1::1", "NAT64 local-use"),
    ],
)
def test_blocked(text: str, label: str) -> None:
    assert ssrf.blocked_range(ipaddress.ip_address(text)) == label


@pytest.mark.parametrize(
    "text",
    ["::ffff:127.0.0.1", "::127.0.0.1", "::", "2002:a00:1::1", "::ffff:169.254.169.254", "fe80::1%eth0"],
)
def test_embedded_and_scoped_addresses_are_judged_by_what_they_reach(text: str) -> None:
    assert ssrf.blocked_range(ipaddress.ip_address(text)) is not None


@pytest.mark.parametrize(
    "text",
    [
        "8.8.8.8",
        "198.51.100.1",
        "100.128.0.1",
        "172.32.0.1",
        "2001:4860::8888",
        "::ffff:8.8.8.8",
        "2002:808:808::1",
    ],
)
def test_public(text: str) -> None:
    assert ssrf.blocked_range(ipaddress.ip_address(text)) is None


def test_mapped_addresses_are_dialled_as_ipv4() -> None:
    assert ssrf.connect_address(ipaddress.ip_address("::ffff:127.0.0.1")) == ipaddress.IPv4Address(
        "127.0.0.1"
    )


def test_every_answer_is_checked() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["8.8.8.8", "2001:4860::8888", "10.0.0.1"]

    with pytest.raises(ssrf.AddressBlocked) as info:
        ssrf.resolve_checked("x.test", 80, resolver, allow_private=False, timeout=5)
    assert str(info.value.address) == "10.0.0.1"
    got = ssrf.resolve_checked("x.test", 80, resolver, allow_private=True, timeout=5)
    assert [str(a) for a in got] == ["8.8.8.8", "2001:4860::8888", "10.0.0.1"]


def test_localhost_is_never_looked_up() -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise AssertionError("localhost must not reach the resolver")

    with pytest.raises(ssrf.AddressBlocked):
        ssrf.check_literal("LOCALHOST.", allow_private=False)
    got = ssrf.resolve_checked("db.localhost", 80, resolver, allow_private=True, timeout=5)
    assert [str(a) for a in got] == ["127.0.0.1", "::1"]


def test_a_hanging_resolver_cannot_outlive_the_deadline() -> None:
    import threading

    gate = threading.Event()

    def resolver(host: str, port: int) -> list[str]:
        gate.wait(30)
        return ["8.8.8.8"]

    with pytest.raises(ssrf.ResolutionTimeout):
        ssrf.resolve_checked("slow.test", 80, resolver, allow_private=False, timeout=0.2)
    gate.set()
