"""The address rules of engine/ssrf.py, checked directly (pure functions, no network).

The behaviour through the CLI is in test_http_ssrf.py; here the numeric-IPv4 parser is held
against the C library's own ``inet_aton`` so that no spelling a resolver accepts slips by.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from pathlib import Path

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
        ("192.0.0.8", "IETF protocol assignments"),
        ("198.18.0.1", "benchmarking"),
        ("198.19.255.255", "benchmarking"),
        ("192.0.2.1", "documentation (TEST-NET-1)"),
        ("198.51.100.7", "documentation (TEST-NET-2)"),
        ("203.0.113.255", "documentation (TEST-NET-3)"),
        ("::ffff:192.0.0.8", "IETF protocol assignments (embedded in ::ffff:c000:8)"),
        ("::ffff:198.18.0.1", "benchmarking (embedded in ::ffff:c612:1)"),
        ("::ffff:192.0.2.1", "documentation (TEST-NET-1) (embedded in ::ffff:c000:201)"),
        ("::ffff:198.51.100.7", "documentation (TEST-NET-2) (embedded in ::ffff:c633:6407)"),
        ("::ffff:203.0.113.9", "documentation (TEST-NET-3) (embedded in ::ffff:cb00:7109)"),
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
        "93.184.216.34",
        "192.0.1.255",
        "192.0.3.0",
        "198.17.255.255",
        "198.20.0.0",
        "198.51.101.0",
        "203.0.114.0",
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


# /proc/net/fib_trie as a namespace with 127.0.0.1, a secondary 45.33.32.156 and an AnyIP
# route (93.184.216.0/24, not an interface address) lists it; the trie repeats per table.
FIB_TRIE = """Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 45.33.32.156
        /32 host LOCAL
     |-- 93.184.216.0
        /24 host LOCAL
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     |-- 192.168.7.0
        /24 link UNICAST
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 45.33.32.156
        /32 host LOCAL
"""
IF_INET6 = """00000000000000000000000000000001 01 80 10 80       lo
20010db8000000000000000000000042 02 40 00 80     eth0
fe80000000000000021122fffe334455 02 40 20 80     eth0
"""


def test_interface_addresses_are_read_from_proc_files() -> None:
    assert ssrf.parse_fib_trie(FIB_TRIE) == {
        ipaddress.IPv4Address("45.33.32.156"),
        ipaddress.IPv4Address("127.0.0.1"),
    }
    assert ssrf.parse_if_inet6(IF_INET6) == {
        ipaddress.IPv6Address("::1"),
        ipaddress.IPv6Address("2001:db8::42"),
        ipaddress.IPv6Address("fe80::211:22ff:fe33:4455"),
    }


def test_proc_fallback_reads_both_files_and_tolerates_missing_ones(tmp_path: Path) -> None:
    fib, inet6 = tmp_path / "fib_trie", tmp_path / "if_inet6"
    fib.write_text(FIB_TRIE)
    inet6.write_text(IF_INET6)
    own = ssrf.proc_addresses(str(fib), str(inet6))
    assert ipaddress.ip_address("45.33.32.156") in own
    assert ipaddress.ip_address("2001:db8::42") in own
    assert ssrf.proc_addresses(str(tmp_path / "none"), str(inet6)) == ssrf.parse_if_inet6(IF_INET6)


def _rtm_newaddr(family: int, attrs: list[tuple[int, bytes]]) -> bytes:
    body = struct.pack("=BBBBI", family, 32, 0, 0, 1)
    for kind, raw in attrs:
        attr = struct.pack("=HH", 4 + len(raw), kind) + raw
        body += attr + b"\0" * (-len(attr) % 4)
    return struct.pack("=IHHII", 16 + len(body), 20, 2, 1, 0) + body


def test_netlink_dump_gives_the_local_address_not_the_peer() -> None:
    dump = (
        _rtm_newaddr(
            socket.AF_INET, [(1, bytes([10, 9, 9, 9])), (2, bytes([45, 33, 32, 156]))]
        )  # ppp: peer, local
        + _rtm_newaddr(socket.AF_INET, [(1, bytes([127, 0, 0, 1])), (2, bytes([127, 0, 0, 1]))])
        + _rtm_newaddr(socket.AF_INET6, [(1, ipaddress.IPv6Address("2001:db8::42").packed)])
    )
    found, done = ssrf.parse_rtm_newaddr(dump)
    assert found == {
        ipaddress.ip_address("45.33.32.156"),
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("2001:db8::42"),
    }
    assert done is False
    _, done = ssrf.parse_rtm_newaddr(struct.pack("=IHHII", 20, 3, 2, 1, 0) + b"\0" * 4)  # NLMSG_DONE
    assert done is True


def test_this_machines_real_addresses_are_found() -> None:
    """Asked of the kernel for real: loopback is always there, and netlink agrees with /proc."""
    if not Path(ssrf.FIB_TRIE_PATH).exists():
        pytest.skip("not Linux")
    own = ssrf.own_addresses()
    assert ipaddress.IPv4Address("127.0.0.1") in own
    from_netlink = ssrf.netlink_addresses()
    if from_netlink is not None:
        assert ssrf.proc_addresses() <= from_netlink


OWN = frozenset({ipaddress.ip_address("45.33.32.156"), ipaddress.ip_address("2001:4860::42")})


@pytest.mark.parametrize(
    "host",
    [
        "45.33.32.156",
        "0x2d21209c",
        "757145756",
        "[::ffff:45.33.32.156]",
        "[::ffff:2d21:209c]",
        "[2001:4860::42]",
    ],
)
def test_own_addresses_are_blocked_in_every_literal_form(host: str) -> None:
    with pytest.raises(ssrf.AddressBlocked) as info:
        ssrf.check_literal(host, allow_private=False, own=OWN)
    assert ssrf.OWN_LABEL in info.value.label
    assert ssrf.check_literal(host, allow_private=True, own=OWN) is not None
    assert ssrf.check_literal(host, allow_private=False) is not None  # not own: a public address


def test_own_addresses_are_blocked_in_resolver_answers() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["8.8.8.8", "::ffff:45.33.32.156"]

    with pytest.raises(ssrf.AddressBlocked) as info:
        ssrf.resolve_checked("x.test", 80, resolver, allow_private=False, timeout=5, own=OWN)
    assert str(info.value.address) == "::ffff:2d21:209c"
    assert ssrf.OWN_LABEL in info.value.label
    got = ssrf.resolve_checked("x.test", 80, resolver, allow_private=True, timeout=5, own=OWN)
    assert len(got) == 2
