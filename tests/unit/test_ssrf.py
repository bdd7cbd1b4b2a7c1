"""SSRF guard: address classes, URL checks, one DNS lookup per connection, connect to the checked IP."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable, Iterator, Sequence

import httpcore
import httpx
import pytest

from webhooks.outbound.ssrf import (
    BlockedAddress,
    GuardedTransport,
    blocked_reason,
    check_address,
    check_url,
    resolve_and_check,
)
from worker.demo.recorder import WebhookReceiver

PUBLIC_V4 = "93.184.216.34"  # never contacted: tests that pass the check use a mock backend


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.1.2.3", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("fc00::1", "private"),
        ("169.254.1.1", "link_local"),
        ("fe80::1", "link_local"),
        ("fe80::1%eth0", "link_local"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("100.64.0.1", "cgnat"),
        ("100.127.255.254", "cgnat"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "metadata"),
        ("::ffff:100.64.0.1", "cgnat"),
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("192.0.2.1", "not_global"),  # documentation
        ("198.18.0.1", "not_global"),  # benchmarking
        ("0.1.2.3", "not_global"),
        ("2001:db8::1", "not_global"),
    ],
)
def test_blocked_classes(address: str, reason: str) -> None:
    assert blocked_reason(address) == reason
    with pytest.raises(BlockedAddress) as info:
        check_address(address)
    assert info.value.reason == reason


@pytest.mark.parametrize("address", [PUBLIC_V4, "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(address) is None
    check_address(address)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.0.0.1", "192.168.0.10", "fd12::1", "::ffff:127.0.0.1"])
def test_allow_private_lets_loopback_and_private_through(address: str) -> None:
    check_address(address, allow_private=True)


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "fd00:ec2::254", "169.254.1.1", "fe80::1", "100.64.0.1", "0.0.0.0", "224.0.0.1"]
)
def test_allow_private_still_blocks_metadata_and_link_local(address: str) -> None:
    with pytest.raises(BlockedAddress):
        check_address(address, allow_private=True)


def test_invalid_address() -> None:
    with pytest.raises(BlockedAddress) as info:
        check_address("not-an-ip")
    assert info.value.reason == "invalid_address"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/hook", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.com:70/", "scheme"),
        ("//example.com/hook", "scheme"),
        ("http://user:pass@example.com/hook", "userinfo"),
        ("https://token@example.com/hook", "userinfo"),
        ("http:///hook", "no_host"),
    ],
)
def test_check_url_rejects(url: str, reason: str) -> None:
    with pytest.raises(BlockedAddress) as info:
        check_url(url)
    assert info.value.reason == reason


def test_check_url_accepts() -> None:
    assert check_url("https://hooks.example.com/orderflow?x=1").host == "hooks.example.com"
    assert check_url("http://93.184.216.34:8080/").port == 8080


class StubResolver:
    """Returns scripted answers, one list per call, and counts the calls."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append((host, port))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


async def test_resolve_and_check_public_name() -> None:
    resolver = StubResolver([PUBLIC_V4, "2606:4700:4700::1111"])
    assert await resolve_and_check("hooks.example.com", 443, resolver=resolver) == (
        PUBLIC_V4, "2606:4700:4700::1111"
    )
    assert resolver.calls == [("hooks.example.com", 443)]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [(["127.0.0.1"], "loopback"), ([PUBLIC_V4, "10.0.0.5"], "private"), (["169.254.169.254"], "metadata")],
)
async def test_resolve_and_check_names_pointing_inside(answer: list[str], reason: str) -> None:
    with pytest.raises(BlockedAddress) as info:
        await resolve_and_check("evil.example.com", 443, resolver=StubResolver(answer))
    assert info.value.reason == reason
    assert "evil.example.com" in str(info.value)


async def test_resolve_and_check_literal_ip_skips_the_resolver() -> None:
    resolver = StubResolver(["127.0.0.1"])
    assert await resolve_and_check(PUBLIC_V4, 80, resolver=resolver) == (PUBLIC_V4,)
    with pytest.raises(BlockedAddress):
        await resolve_and_check("[::1]", 80, resolver=resolver)
    assert resolver.calls == []


async def test_resolve_and_check_no_addresses() -> None:
    with pytest.raises(OSError):
        await resolve_and_check("empty.example.com", 80, resolver=StubResolver([]))


# ---- the transport --------------------------------------------------------------------------


class RecordingStream(httpcore.AsyncMockStream):
    def __init__(self, buffer: list[bytes], tls_names: list[str | None]) -> None:
        super().__init__(buffer)
        self.tls_names = tls_names

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        self.tls_names.append(server_hostname)
        return self


class RecordingBackend(httpcore.AsyncMockBackend):
    """Answers every connection with one canned HTTP response and records where it connected."""

    def __init__(self) -> None:
        super().__init__([b"HTTP/1.1 204 No Content\r\n", b"Content-Length: 0\r\n", b"\r\n"])
        self.connected: list[tuple[str, int]] = []
        self.tls_names: list[str | None] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append((host, port))
        return RecordingStream(list(self._buffer), self.tls_names)


async def test_rebinding_connects_to_the_checked_address() -> None:
    # A rebinding resolver answers public first and 127.0.0.1 on any later lookup.
    resolver = StubResolver([PUBLIC_V4], ["127.0.0.1"])
    backend = RecordingBackend()
    async with httpx.AsyncClient(transport=GuardedTransport(resolver=resolver, backend=backend)) as client:
        response = await client.post("https://hooks.example.com/orderflow", content=b"{}")
    assert response.status_code == 204
    assert resolver.calls == [("hooks.example.com", 443)]  # exactly one lookup
    assert backend.connected == [(PUBLIC_V4, 443)]  # and the connection went to what was checked
    assert backend.tls_names == ["hooks.example.com"]  # SNI and certificate check use the hostname
    assert response.request.headers["host"] == "hooks.example.com"


async def test_each_new_connection_is_checked_again() -> None:
    resolver = StubResolver([PUBLIC_V4], ["127.0.0.1"])
    backend = RecordingBackend()
    async with httpx.AsyncClient(transport=GuardedTransport(resolver=resolver, backend=backend)) as client:
        await client.get("http://a.example.com/")
        with pytest.raises(BlockedAddress) as info:
            await client.get("http://b.example.com/")  # a new host: a new lookup, which now points inside
    assert info.value.reason == "loopback"
    assert [host for host, _ in resolver.calls] == ["a.example.com", "b.example.com"]
    assert backend.connected == [(PUBLIC_V4, 80)]


@pytest.mark.parametrize(
    "url", ["http://user:pw@hooks.example.com/", "http://127.0.0.1/", "http://[::1]:8080/", "http://169.254.169.254/latest"]
)
async def test_transport_refuses_before_connecting(url: str) -> None:
    resolver = StubResolver([PUBLIC_V4])
    backend = RecordingBackend()
    async with httpx.AsyncClient(transport=GuardedTransport(resolver=resolver, backend=backend)) as client:
        with pytest.raises(BlockedAddress):
            await client.get(url)
    assert backend.connected == []


async def test_dns_failure_is_a_connect_error() -> None:
    async def failing(host: str, port: int) -> Sequence[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async with httpx.AsyncClient(transport=GuardedTransport(resolver=failing, backend=RecordingBackend())) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://nowhere.example.com/")


async def test_slow_dns_is_a_connect_timeout() -> None:
    async def slow(host: str, port: int) -> Sequence[str]:
        await asyncio.sleep(5)
        return [PUBLIC_V4]

    transport = GuardedTransport(resolver=slow, backend=RecordingBackend())
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5, connect=0.05)) as client:
        with pytest.raises(httpx.ConnectTimeout):
            await client.get("http://slow.example.com/")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(replies=[202, 202]) as rx:
        yield rx


async def test_real_request_to_local_server_with_allow_private(receiver: WebhookReceiver) -> None:
    resolver = StubResolver(["127.0.0.1"])
    async with httpx.AsyncClient(transport=GuardedTransport(allow_private=True, resolver=resolver), timeout=5) as client:
        by_ip = await client.post(receiver.url + "ip", content=b"one")
        by_name = await client.post(f"http://hooks.example.test:{receiver.port}/name", content=b"two")
    assert (by_ip.status_code, by_name.status_code) == (202, 202)
    assert resolver.calls == [("hooks.example.test", receiver.port)]  # once; the IP literal needs none
    first, second = await receiver.wait_for(2)
    assert (first.path, first.body) == ("/ip", b"one")
    assert (second.path, second.body) == ("/name", b"two")
    assert second.headers["host"] == f"hooks.example.test:{receiver.port}"  # Host header kept


async def test_local_server_blocked_by_default(receiver: WebhookReceiver) -> None:
    async with httpx.AsyncClient(transport=GuardedTransport(), timeout=5) as client:
        with pytest.raises(BlockedAddress) as info:
            await client.post(receiver.url, content=b"x")
    assert info.value.reason == "loopback"
    assert receiver.requests == []


async def test_system_resolver_on_localhost(receiver: WebhookReceiver) -> None:
    async with httpx.AsyncClient(transport=GuardedTransport(), timeout=5) as client:
        with pytest.raises(BlockedAddress):
            await client.get(f"http://localhost:{receiver.port}/")
    async with httpx.AsyncClient(transport=GuardedTransport(allow_private=True), timeout=5) as client:
        response = await client.get(f"http://localhost:{receiver.port}/")
    assert response.status_code == 202
