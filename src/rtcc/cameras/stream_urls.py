"""Which addresses the server may open for a camera: the schemes cameras speak, and never the server itself.

One rule for stream URLs (API, imports, and again right before any ffmpeg opens one) and for ONVIF
discovery targets. A URL is refused when its host is, or resolves to, a loopback, link-local,
unspecified, multicast, reserved or cloud-metadata address, or one of the server's own addresses,
unless RTCC_CAMERA_NETWORK_ALLOWLIST names a network holding it; the server's own HTTP port is refused
even then. Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10) are where city cameras
live and are allowed. `file` sources only with RTCC_ALLOW_FILE_STREAMS (tests, demos).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

from rtcc.core.errors import InvalidInput

if TYPE_CHECKING:
    from rtcc.cameras.settings import CameraSettings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The schemes a camera speaks, with the port each means when the URL names none.
CAMERA_SCHEMES = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
FILE_SCHEME = "file"
# Cloud and hypervisor metadata services hand out the host's credentials to whoever asks from it.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(address) for address in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192",
))
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
OWN_ADDRESSES_TTL_S = 60.0
RESOLVED_TTL_S = 10.0  # short: a host that now resolves to loopback must be refused soon after
ALLOWLIST_HINT = "RTCC_CAMERA_NETWORK_ALLOWLIST may name a camera network that needs it"


class StreamSourceRefused(InvalidInput):
    """A stream or discovery address the server must not open (its own, loopback, metadata, a file...)."""

    code = "stream_source_refused"

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.field = field


def parse_stream_url(url: str, *, field: str, allow_file: bool) -> SplitResult:
    """The URL's parts; raises InvalidInput for a scheme cameras do not speak, a missing host or a bad port."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == FILE_SCHEME:
        if not allow_file:
            raise StreamSourceRefused(f"{field}: file sources are switched off (RTCC_ALLOW_FILE_STREAMS); "
                                      "a camera streams over rtsp, rtsps, http or https.", field=field)
        return parts
    if scheme not in CAMERA_SCHEMES:
        raise InvalidInput(f"{field}: the scheme must be one of {', '.join(CAMERA_SCHEMES)}.", code="invalid_stream_url")
    if not parts.hostname:
        raise InvalidInput(f"{field}: the stream URL has no host.", code="invalid_stream_url")
    try:
        parts.port
    except ValueError:
        raise InvalidInput(f"{field}: the port must be a number from 1 to 65535.", code="invalid_stream_url") from None
    return parts


@dataclass(frozen=True)
class StreamSourcePolicy:
    """The rule of one configuration: which schemes, which networks, and the server's own HTTP port."""

    allow_file: bool
    allowlist: tuple[IPNetwork, ...]
    server_host: str
    server_port: int

    @classmethod
    def of(cls, settings: CameraSettings) -> StreamSourcePolicy:
        """The policy the settings describe (built per use: tests and the demo change settings at run time)."""
        return cls(allow_file=settings.allow_file_streams,
                   allowlist=tuple(ipaddress.ip_network(entry, strict=False) for entry in settings.camera_network_allowlist),
                   server_host=settings.host, server_port=settings.port)

    def check_url(self, url: str, *, field: str, resolve: bool = True) -> None:
        """Raise StreamSourceRefused (or InvalidInput) unless the server may open this stream URL."""
        parts = parse_stream_url(url, field=field, allow_file=self.allow_file)
        if parts.scheme.lower() == FILE_SCHEME:
            return
        self.check_address(parts.hostname or "", parts.port or CAMERA_SCHEMES[parts.scheme.lower()], field=field,
                           resolve=resolve)

    def refusal(self, url: str, *, resolve: bool = True) -> str | None:
        """Why the server may not open this stream URL (for a camera's status), or None when it may."""
        try:
            self.check_url(url, field="stream URL", resolve=resolve)
        except InvalidInput as error:
            return error.message.removeprefix("stream URL: ")
        return None

    def check_address(self, host: str, port: int, *, field: str, resolve: bool = True) -> None:
        """Raise StreamSourceRefused unless host:port may be opened; hostnames are resolved when `resolve`.

        A name that does not resolve passes: nothing can be opened there, and the caller reports
        "host name not found" in its own words.
        """
        addresses = _literal_addresses(host)
        if addresses is None:
            if not resolve:
                return
            addresses = _resolved_addresses(host, port)
        for address in addresses:
            problem = self._address_problem(address, port)
            if problem:
                shown = host if str(address) == host.strip("[]") else f"{host} ({address})"
                raise StreamSourceRefused(f"{field}: {shown} is {problem}.", field=field)

    def _address_problem(self, address: IPAddress, port: int) -> str | None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        own = address in own_addresses(self.server_host)
        if (own or address.is_loopback or address.is_unspecified) and port == self.server_port:
            return f"the server itself (port {port} is its own HTTP port)"
        if any(address in network for network in self.allowlist):
            return None
        if address in METADATA_ADDRESSES:
            kind = "a cloud metadata address"
        elif address.is_loopback:
            kind = "a loopback address"
        elif address.is_link_local:
            kind = "a link-local address"
        elif address.is_unspecified or address in THIS_NETWORK:
            kind = "an unspecified address"
        elif address.is_multicast:
            kind = "a multicast address"
        elif own:
            kind = "one of the server's own addresses"
        elif address.is_reserved:
            kind = "a reserved address"
        else:
            return None
        return f"{kind}, which the server does not open ({ALLOWLIST_HINT})"


def _literal_addresses(host: str) -> list[IPAddress] | None:
    """The address an IP literal (or a name that is loopback by definition) stands for; None for other names."""
    bare = host.strip("[]").lower().rstrip(".")
    if bare == "localhost" or bare.endswith(".localhost"):  # RFC 6761: always loopback, whatever DNS says
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    try:
        return [ipaddress.ip_address(bare)]
    except ValueError:
        return None


_cache_lock = threading.Lock()
_resolved: dict[tuple[str, int], tuple[float, list[IPAddress]]] = {}
_own: dict[str, tuple[float, frozenset[IPAddress]]] = {}


def _resolved_addresses(host: str, port: int) -> list[IPAddress]:
    """Every address the name resolves to (as ffmpeg's getaddrinfo would see it), cached briefly."""
    now = time.monotonic()
    with _cache_lock:
        cached = _resolved.get((host, port))
    if cached and now - cached[0] < RESOLVED_TTL_S:
        return cached[1]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        infos = []
    addresses = []
    for info in infos:
        with contextlib.suppress(ValueError):
            addresses.append(ipaddress.ip_address(info[4][0]))
    with _cache_lock:
        if len(_resolved) > 10_000:  # an import of many distinct names must not grow this without end
            _resolved.clear()
        _resolved[(host, port)] = (now, addresses)
    return addresses


def own_addresses(server_host: str = "") -> frozenset[IPAddress]:
    """The machine's own interface addresses and its listening address, cached for a minute."""
    now = time.monotonic()
    with _cache_lock:
        cached = _own.get(server_host)
    if cached and now - cached[0] < OWN_ADDRESSES_TTL_S:
        return cached[1]
    found = set(_interface_addresses())
    literal = _literal_addresses(server_host) if server_host else None
    found.update(address for address in literal or () if not address.is_unspecified)
    with contextlib.suppress(OSError, UnicodeError):
        for info in socket.getaddrinfo(socket.gethostname(), None):
            with contextlib.suppress(ValueError):
                found.add(ipaddress.ip_address(info[4][0].split("%")[0]))
    addresses = frozenset(found)
    with _cache_lock:
        _own[server_host] = (now, addresses)
    return addresses


def _interface_addresses() -> set[IPAddress]:
    # The standard library lists no interface addresses: IPv4 by ioctl per interface, IPv6 from /proc (Linux).
    found: set[IPAddress] = set()
    with contextlib.suppress(ImportError, OSError):
        import fcntl

        siocgifaddr = 0x8915
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            for _, name in socket.if_nameindex():
                with contextlib.suppress(OSError):
                    answer = fcntl.ioctl(probe.fileno(), siocgifaddr, struct.pack("256s", name.encode()[:15]))
                    found.add(ipaddress.IPv4Address(answer[20:24]))
    with contextlib.suppress(OSError, ValueError), open("/proc/net/if_inet6") as table:
        for line in table:
            found.add(ipaddress.IPv6Address(bytes.fromhex(line.split()[0])))
    return found
