"""SSRF defence for HTTP buttons: which addresses a press may reach (CONTRACT 7.4, DEVIATIONS D4/D13).

Three questions, answered without touching the network:

* :func:`parse_literal` -- is this URL host an IP address in *any* textual form a resolver
  accepts? Besides dotted quads and IPv6 this covers what ``inet_aton`` takes: a single decimal
  number (``2130706433``), hex (``0x7f000001``), octal parts (``0177.0.0.1``) and short forms
  (``127.1``). Such a host is treated as the address it denotes.
* :func:`blocked_range` -- is an address in a blocked range? IPv4-mapped (``::ffff:a.b.c.d``),
  IPv4-compatible (``::a.b.c.d``) and 6to4 (``2002:AABB:CCDD::/48``) IPv6 addresses are judged by
  the IPv4 address they embed; the NAT64 prefixes are blocked outright.
* :func:`is_loopback_name` -- ``localhost`` and ``*.localhost`` (RFC 6761) are loopback by
  definition and never looked up.

The machine's own interface addresses are blocked too (a public address of this host reaches
its services as surely as 127.0.0.1 does): :func:`own_addresses` asks the kernel for them, as
``getifaddrs`` does, with one rtnetlink ``RTM_GETADDR`` dump (no network traffic; secondary
addresses included), and falls back to ``/proc/net/fib_trie`` (IPv4: every ``/32 host LOCAL``
entry) and ``/proc/net/if_inet6`` (IPv6) where netlink is not available. The caller reads them
once per press.

Name resolution is injectable: a :data:`Resolver` is ``(host, port) -> [address, ...]``. The
default asks the system (``getaddrinfo``). The test hook ``BUTTONS_TEST_RESOLVER_FILE`` names a
JSON file ``{"name": ["address", ...]}`` whose answers replace the system's, so tests never
query DNS; it only *supplies answers* -- every answer still goes through the same checks, so it
cannot open anything the real resolver could not.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import struct
import threading
from collections.abc import Callable, Mapping

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

TEST_RESOLVER_ENV = "BUTTONS_TEST_RESOLVER_FILE"
ALLOW_PRIVATE_ENV = "BUTTONS_ALLOW_PRIVATE_NETWORKS"
ALLOW_ANY_HOST_ENV = "BUTTONS_ALLOW_ANY_HOST"

_V4_BLOCKED: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), label)
    for net, label in (
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("169.254.0.0/16", "link-local"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("0.0.0.0/8", "this-network"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("198.18.0.0/15", "benchmarking"),
        ("192.0.2.0/24", "documentation (TEST-NET-1)"),
        ("198.51.100.0/24", "documentation (TEST-NET-2)"),
        ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    )
)
_V6_BLOCKED: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), label)
    for net, label in (
        ("::1/128", "loopback"),
        ("fc00::/7", "unique-local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
        ("64:ff9b::/96", "NAT64"),
        ("64:ff9b:1::/48", "NAT64 local-use"),
    )
)
_V4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")

OWN_LABEL = "this machine's own address"
FIB_TRIE_PATH = "/proc/net/fib_trie"
IF_INET6_PATH = "/proc/net/if_inet6"
NO_ADDRESSES: frozenset[IPAddress] = frozenset()

OVERRIDE_HINT = "set --allow-private-networks on the button or BUTTONS_ALLOW_PRIVATE_NETWORKS=1 to override"


class AddressBlocked(Exception):
    """A host is, or resolves to, an address in a blocked range."""

    def __init__(self, host: str, address: IPAddress, label: str, *, literal: bool) -> None:
        self.host = host
        self.address = address
        self.label = label
        self.literal = literal
        if literal and label == "loopback name":
            text = f"{host} is a loopback name"
        elif literal and host.strip("[]").replace("%25", "%") != str(address):
            text = f"{host} is {address}, in a blocked {label} range"
        elif literal:
            text = f"{address} is in a blocked {label} range"
        else:
            text = f"SSRF blocked: {host} resolves to private address {address} ({label})"
        super().__init__(f"{text} ({OVERRIDE_HINT})")


class ResolutionFailed(Exception):
    """A name could not be resolved (or resolved to nothing usable)."""


class ResolutionTimeout(Exception):
    """Resolution did not finish before the press deadline."""


# ----------------------------------------------------------------------------- literals


def parse_loose_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``inet_aton`` would read from ``host``, or None.

    1-4 dot-separated parts; each is decimal, octal (leading ``0``) or hex (``0x``); the last
    part fills all remaining bytes (``127.1`` = 127.0.0.1, ``2130706433`` = 127.0.0.1).
    """
    if host.endswith("."):
        host = host[:-1]
    parts = host.split(".")
    if not host or len(parts) > 4:
        return None
    values: list[int] = []
    for part in parts:
        value = _loose_int(part)
        if value is None:
            return None
        values.append(value)
    *head, last = values
    if any(v > 0xFF for v in head):
        return None
    if last >= 1 << (8 * (4 - len(head))):
        return None
    number = 0
    for v in head:
        number = (number << 8) | v
    number = (number << (8 * (4 - len(head)))) | last
    return ipaddress.IPv4Address(number)


def _loose_int(part: str) -> int | None:
    """One part of a numeric IPv4 host, as ``inet_aton`` reads it (ASCII digits only)."""
    if part[:2] in ("0x", "0X"):
        digits, base, allowed = part[2:], 16, "0123456789abcdefABCDEF"
    elif len(part) > 1 and part[0] == "0":
        digits, base, allowed = part[1:], 8, "01234567"
    else:
        digits, base, allowed = part, 10, "0123456789"
    if not digits or any(c not in allowed for c in digits):
        return None
    return int(digits, base)


def parse_literal(host: str) -> IPAddress | None:
    """The address a URL host denotes if it is an IP literal in any accepted form, else None."""
    h = host.strip()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    h = h.replace("%25", "%")
    if ":" in h:
        try:
            return ipaddress.IPv6Address(h)
        except ValueError:
            return None
    v4 = parse_loose_ipv4(h)
    if v4 is not None:
        return v4
    # Second opinion from the C library, for hosts made only of characters a numeric form can use.
    if h and all(c in "0123456789abcdefABCDEFxX." for c in h):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(h.rstrip(".")))
        except OSError:
            return None
    return None


def is_loopback_name(host: str) -> bool:
    h = host.strip().rstrip(".").lower()
    return h == "localhost" or h.endswith(".localhost")


# ----------------------------------------------------------------------------- ranges


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, IPv4-compatible or 6to4 IPv6 address carries."""
    if ip in _V4_MAPPED:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _V4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
    return None


def blocked_range(ip: IPAddress, own: frozenset[IPAddress] = NO_ADDRESSES) -> str | None:
    """A short label of the blocked range ``ip`` falls in, or None when it may be reached.

    ``own`` is the machine's own interface addresses (:func:`own_addresses`), blocked as well.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        for net6, label in _V6_BLOCKED:
            if ip in net6:
                return label
        if ip in own:
            return OWN_LABEL
        inner = embedded_ipv4(ip)
        if inner is None:
            return None
        label4 = _v4_label(inner, own)
        return f"{label4} (embedded in {ip})" if label4 else None
    return _v4_label(ip, own)


def _v4_label(ip: ipaddress.IPv4Address, own: frozenset[IPAddress]) -> str | None:
    for net, label in _V4_BLOCKED:
        if ip in net:
            return label
    return OWN_LABEL if ip in own else None


# ----------------------------------------------------------------------------- own addresses


def parse_fib_trie(text: str) -> set[IPAddress]:
    """The local IPv4 addresses in ``/proc/net/fib_trie``: each ``|-- a.b.c.d`` leaf followed by
    a ``/32 host LOCAL`` line (one per address on an interface; the trie is listed per table,
    so addresses repeat)."""
    out: set[IPAddress] = set()
    leaf: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|-- "):
            leaf = stripped[4:].strip()
        elif leaf is not None and stripped.startswith("/32 ") and stripped.split()[1:3] == ["host", "LOCAL"]:
            try:
                out.add(ipaddress.IPv4Address(leaf))
            except ValueError:
                pass
    return out


def parse_if_inet6(text: str) -> set[IPAddress]:
    """The IPv6 addresses in ``/proc/net/if_inet6`` (32 hex digits first on each line)."""
    out: set[IPAddress] = set()
    for line in text.splitlines():
        field = line.split(maxsplit=1)[0] if line.strip() else ""
        if len(field) == 32:
            try:
                out.add(ipaddress.IPv6Address(int(field, 16)))
            except ValueError:
                pass
    return out


# rtnetlink (linux/netlink.h, linux/rtnetlink.h, linux/if_addr.h)
_RTM_NEWADDR, _RTM_GETADDR = 20, 22
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_NLM_F_REQUEST_DUMP = 0x1 | 0x300
_IFA_ADDRESS, _IFA_LOCAL = 1, 2
_NLMSG_HEADER = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefix length, flags, scope, interface index
_RTATTR = struct.Struct("=HH")  # length, type


def _align4(n: int) -> int:
    return (n + 3) & ~3


def parse_rtm_newaddr(data: bytes) -> tuple[set[IPAddress], bool]:
    """The addresses in a chunk of an ``RTM_GETADDR`` dump, and whether the dump ended.

    For IPv4 ``IFA_LOCAL`` is the interface's own address (``IFA_ADDRESS`` is the peer on a
    point-to-point link); IPv6 has only ``IFA_ADDRESS``.
    """
    out: set[IPAddress] = set()
    off = 0
    while off + _NLMSG_HEADER.size <= len(data):
        length, kind, _flags, _seq, _pid = _NLMSG_HEADER.unpack_from(data, off)
        if length < _NLMSG_HEADER.size or kind in (_NLMSG_DONE, _NLMSG_ERROR):
            return out, True
        end = min(off + length, len(data))
        if kind == _RTM_NEWADDR and off + _NLMSG_HEADER.size + _IFADDRMSG.size <= end:
            family = _IFADDRMSG.unpack_from(data, off + _NLMSG_HEADER.size)[0]
            attrs: dict[int, bytes] = {}
            at = off + _NLMSG_HEADER.size + _IFADDRMSG.size
            while at + _RTATTR.size <= end:
                alen, atype = _RTATTR.unpack_from(data, at)
                if alen < _RTATTR.size:
                    break
                attrs[atype] = data[at + _RTATTR.size : at + alen]
                at += _align4(alen)
            raw = attrs.get(_IFA_LOCAL) or attrs.get(_IFA_ADDRESS)
            if family == socket.AF_INET and raw is not None and len(raw) == 4:
                out.add(ipaddress.IPv4Address(raw))
            elif family == socket.AF_INET6 and raw is not None and len(raw) == 16:
                out.add(ipaddress.IPv6Address(raw))
        off += _align4(length)
    return out, False


def netlink_addresses() -> set[IPAddress] | None:
    """Every address on this machine's interfaces, from the kernel; None where netlink fails."""
    family = getattr(socket, "AF_NETLINK", None)
    if family is None:
        return None
    out: set[IPAddress] = set()
    try:
        with socket.socket(family, socket.SOCK_RAW, getattr(socket, "NETLINK_ROUTE", 0)) as sock:
            sock.settimeout(2.0)
            sock.bind((0, 0))
            request = _IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
            header = _NLMSG_HEADER.pack(
                _NLMSG_HEADER.size + len(request), _RTM_GETADDR, _NLM_F_REQUEST_DUMP, 1, 0
            )
            sock.send(header + request)
            for _ in range(10_000):  # a dump is a few messages; bounded in any case
                found, done = parse_rtm_newaddr(sock.recv(65536))
                out |= found
                if done:
                    return out
    except OSError:
        return None
    return None


def own_addresses(fib_trie: str = FIB_TRIE_PATH, if_inet6: str = IF_INET6_PATH) -> frozenset[IPAddress]:
    """The addresses of this machine's interfaces: from netlink, else from ``/proc`` (empty
    where neither exists)."""
    found = netlink_addresses()
    if found is not None:
        return frozenset(found)
    return proc_addresses(fib_trie, if_inet6)


def proc_addresses(fib_trie: str = FIB_TRIE_PATH, if_inet6: str = IF_INET6_PATH) -> frozenset[IPAddress]:
    """The interface addresses listed in ``/proc/net/fib_trie`` and ``/proc/net/if_inet6``."""
    out: set[IPAddress] = set()
    for path, parse in ((fib_trie, parse_fib_trie), (if_inet6, parse_if_inet6)):
        try:
            with open(path, encoding="ascii", errors="replace") as fh:
                out |= parse(fh.read())
        except OSError:
            continue
    return frozenset(out)


def connect_address(ip: IPAddress) -> IPAddress:
    """The address to actually dial: an IPv4-mapped IPv6 address is dialled as plain IPv4."""
    if isinstance(ip, ipaddress.IPv6Address) and ip in _V4_MAPPED:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def check_literal(
    host: str, *, allow_private: bool, own: frozenset[IPAddress] = NO_ADDRESSES
) -> IPAddress | None:
    """Enforcement point 1: the literal address of ``host`` (None for a name); raise if blocked."""
    ip = parse_literal(host)
    if ip is None:
        if is_loopback_name(host) and not allow_private:
            raise AddressBlocked(host, ipaddress.IPv4Address("127.0.0.1"), "loopback name", literal=True)
        return None
    label = blocked_range(ip, own)
    if label and not allow_private:
        raise AddressBlocked(host, ip, label, literal=True)
    return ip


# ----------------------------------------------------------------------------- resolution


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = str(sockaddr[0])
        if addr not in out:
            out.append(addr)
    return out


def file_resolver(path: str) -> Resolver:
    """Answers from a JSON file ``{"name": ["address", ...]}``; unknown names do not resolve."""

    def resolve(host: str, port: int) -> list[str]:
        try:
            with open(path, encoding="utf-8") as fh:
                table = json.load(fh)
        except (OSError, ValueError) as exc:
            raise ResolutionFailed(f"test resolver file {path} is unreadable: {exc}") from exc
        if not isinstance(table, dict):
            raise ResolutionFailed(f"test resolver file {path} is not a JSON object")
        answers = table.get(host.rstrip(".").lower())
        if not answers:
            raise ResolutionFailed(f"cannot resolve host {host}: no such host (test resolver)")
        return [str(a) for a in answers]

    return resolve


def resolver_from_env(environ: Mapping[str, str]) -> Resolver:
    path = environ.get(TEST_RESOLVER_ENV, "")
    return file_resolver(path) if path else system_resolver


def resolve_checked(
    host: str,
    port: int,
    resolver: Resolver,
    *,
    allow_private: bool,
    timeout: float,
    own: frozenset[IPAddress] = NO_ADDRESSES,
) -> list[IPAddress]:
    """Enforcement point 2: resolve ``host`` once and check *every* answer.

    Any answer in a blocked range refuses the whole name (DNS-rebinding defence): the caller
    connects only to the addresses returned here and never looks the name up again.
    """
    if is_loopback_name(host):
        raw = ["127.0.0.1", "::1"]
    else:
        raw = _resolve_with_deadline(resolver, host, port, timeout)
    addresses: list[IPAddress] = []
    for text in raw:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            raise ResolutionFailed(
                f"cannot resolve host {host}: invalid address {text!r} in the answer"
            ) from None
        label = blocked_range(ip, own)
        if label and not allow_private:
            raise AddressBlocked(host, ip, label, literal=False)
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise ResolutionFailed(f"cannot resolve host {host}: no addresses")
    return addresses


def _resolve_with_deadline(resolver: Resolver, host: str, port: int, timeout: float) -> list[str]:
    """Run the resolver in a daemon thread so a hanging lookup cannot outlive the press deadline."""
    box: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["answers"] = resolver(host, port)
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="buttons-resolve", daemon=True).start()
    if not done.wait(max(timeout, 0.0)):
        raise ResolutionTimeout(f"resolving {host} timed out")
    err = box.get("error")
    if isinstance(err, ResolutionFailed):
        raise err
    if isinstance(err, socket.gaierror):
        raise ResolutionFailed(f"cannot resolve host {host}: {err.strerror or err}") from err
    if isinstance(err, BaseException):
        raise ResolutionFailed(f"cannot resolve host {host}: {err}") from err
    answers = box.get("answers")
    assert isinstance(answers, list)  # noqa: S101 - the resolver contract
    return [str(a) for a in answers]
