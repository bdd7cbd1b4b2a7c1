"""SSRF guard for outbound webhook delivery.

Endpoint URLs are typed in by tenants, so a delivery must never reach our own network:
loopback, private ranges, link-local, cloud metadata, CGNAT, multicast, reserved and other
non-global addresses are refused, also when hidden inside IPv6 (IPv4-mapped, 6to4, NAT64).

The check and the connection use the same address. `GuardedTransport` is an httpx transport
whose network backend resolves the host once, checks every address, and connects to a
checked address (never a second DNS lookup, so DNS rebinding cannot swap in 127.0.0.1
between check and connect). Everything above TCP is stock httpcore: the connection pool is
keyed by the URL's hostname, the Host header is untouched, and TLS uses the hostname for
SNI and certificate verification. A pooled keep-alive connection is reused without a new
lookup; it was checked when it was opened.

`allow_private=True` (local development and tests only) lets loopback and private (RFC 1918,
fc00::/7) addresses through; metadata, link-local and the rest stay blocked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import httpcore
import httpx

from worker.core.errors import OrderflowError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]  # (host, port) -> IP address strings

ALLOWED_SCHEMES = frozenset({"http", "https"})
RESOLVE_TIMEOUT = 10.0  # seconds for the DNS lookup when the request sets no connect timeout
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)

METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
    }
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
PRIVATE_NETWORKS = (  # what allow_private lets through (besides loopback)
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("fc00::/7"),
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedAddress(OrderflowError):
    """The delivery target is refused: bad scheme, userinfo in the URL, or a non-public address.

    `reason` is machine-readable (scheme, userinfo, no_host, metadata, loopback, private,
    link_local, cgnat, multicast, unspecified, reserved, not_global, unix_socket).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def check_url(url: httpx.URL | str) -> httpx.URL:
    """Refuse URLs we never deliver to (wrong scheme, credentials, no host); returns the parsed URL.

    Use it when an endpoint is registered as well: it needs no network.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise BlockedAddress("invalid_url", str(exc)) from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise BlockedAddress("scheme", f"{parsed.scheme or '(none)'} is not http or https")
    if parsed.userinfo:
        raise BlockedAddress("userinfo", "credentials in the URL are not allowed")
    if not parsed.host:
        raise BlockedAddress("no_host")
    return parsed


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4 or NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def blocked_reason(address: IPAddress | str, *, allow_private: bool = False) -> str | None:
    """Why `address` is refused, or None when it may be contacted."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id is not None:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return blocked_reason(embedded, allow_private=allow_private)
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return None if allow_private else "loopback"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "cgnat"
    if any(ip in network for network in PRIVATE_NETWORKS):
        return None if allow_private else "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "not_global"  # documentation, benchmarking, 0.0.0.0/8, IETF protocol ranges ...
    return None


def check_address(address: IPAddress | str, *, allow_private: bool = False) -> None:
    """Raise BlockedAddress unless `address` is a public unicast address (or allowed private)."""
    try:
        reason = blocked_reason(address, allow_private=allow_private)
    except ValueError as exc:
        raise BlockedAddress("invalid_address", str(address)) from exc
    if reason is not None:
        raise BlockedAddress(reason, str(address))


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the system resolver (getaddrinfo in the loop's executor)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))  # unique, in resolver order


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve_and_check(
    host: str, port: int, *, allow_private: bool = False, resolver: Resolver = system_resolver
) -> tuple[str, ...]:
    """Resolve `host` once and check every address; returns the checked addresses to connect to.

    If any address is refused the whole host is refused (a name that also points inside is
    not a public endpoint). Resolver failures propagate as OSError.
    """
    literal = _ip_literal(host)
    if literal is not None:
        check_address(literal, allow_private=allow_private)
        return (str(literal),)
    addresses = tuple(await resolver(host, port))
    if not addresses:
        raise OSError(f"no addresses for {host}")
    for address in addresses:
        try:
            check_address(address, allow_private=allow_private)
        except BlockedAddress as exc:
            raise BlockedAddress(exc.reason, f"{host} resolves to {address}") from exc
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that only opens TCP connections to checked addresses."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self.inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout if timeout is not None else RESOLVE_TIMEOUT):
                addresses = await resolve_and_check(
                    host, port, allow_private=self.allow_private, resolver=self.resolver
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"DNS lookup for {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"DNS lookup for {host} failed: {exc}") from exc
        last_error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:  # each one checked above; the name is not looked up again
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None  # addresses is never empty
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("unix_socket", path)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


# httpcore exceptions mapped to the public httpx ones, most specific first.
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.ProxyError, httpx.ProxyError),
)
_HTTPCORE_ERRORS = tuple(source for source, _ in _EXCEPTIONS)


@contextmanager
def _mapped_errors() -> Iterator[None]:
    try:
        yield
    except _HTTPCORE_ERRORS as exc:
        target = next(target for source, target in _EXCEPTIONS if isinstance(exc, source))
        raise target(str(exc)) from exc


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            with _mapped_errors():
                await close()


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport for tenant-supplied URLs: checked URL, checked address, no redirects.

    Use it as `httpx.AsyncClient(transport=GuardedTransport())` (a client with an explicit
    transport ignores proxy environment variables; it does not follow redirects unless told).
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.allow_private = allow_private
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context if ssl_context is not None else httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=GuardedBackend(allow_private=allow_private, resolver=resolver, inner=backend),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_url(request.url)
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _mapped_errors():
            response = await self._pool.handle_async_request(core_request)
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


__all__ = [
    "BlockedAddress",
    "GuardedBackend",
    "GuardedTransport",
    "Resolver",
    "blocked_reason",
    "check_address",
    "check_url",
    "resolve_and_check",
    "system_resolver",
]
