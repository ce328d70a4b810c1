"""The address guard: pure policy first, then fetches that must be refused (or pinned)."""

from __future__ import annotations

import ipaddress
import logging

import httpx
import pytest

from newswire.config import Settings
from newswire.testing import LOOPBACK
from newswire.errors import BlockedAddressError
from newswire.fetch import AddressGuard, Fetcher, is_public_address
from newswire.fetch.guard import AddressPolicy, IPAddress, Resolver
from newswire.testing.feedserver import FeedServer, Response

RSS = b"<rss version='2.0'><channel><title>Wire</title></channel></rss>"


def port_of(server: FeedServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def resolver_for(table: dict[str, list[str]], calls: list[str] | None = None) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        return table[host]
    return resolve


# --- the policy ---------------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.255.0.9", "::1",                                   # loopback
    "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",           # private
    "fc00::1", "fd12:3456::1",                                           # unique local
    "169.254.169.254", "169.254.0.1", "fe80::1", "fe80::1%2",            # link-local, metadata
    "100.64.0.1", "100.127.255.255",                                     # CGNAT
    "0.0.0.0", "::",                                                     # unspecified
    "224.0.0.1", "239.255.255.250", "ff02::1", "ff0e::1",                # multicast
    "240.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1",           # reserved, test nets
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",     # IPv4-mapped
    "2002:7f00:1::1", "2002:a9fe:a9fe::1",                               # 6to4 of 127/8, 169.254
    "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::a00:1",             # NAT64 of private
    "fec0::1",                                                           # site-local
])
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [
    "93.184.216.34", "8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.32.0.1",
    "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::808:808",
])
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


async def test_guard_refuses_if_any_address_is_private() -> None:
    guard = AddressGuard(resolver=resolver_for({"mixed.test": ["93.184.216.34", "10.0.0.5"]}))
    with pytest.raises(BlockedAddressError, match=r"mixed\.test.*not a public address") as caught:
        await guard.resolve("mixed.test", 443)
    assert "10.0.0.5" not in str(caught.value) and "93.184" not in str(caught.value)


async def test_the_refused_address_goes_to_the_log_only(caplog: pytest.LogCaptureFixture) -> None:
    """What an internal name resolves to is for the operator's log, not for the page or API
    that shows the error to whoever added the feed."""
    guard = AddressGuard(resolver=resolver_for({"intranet.test": ["10.1.2.3"]}))
    with caplog.at_level(logging.INFO, logger="newswire.fetch.guard"):
        with pytest.raises(BlockedAddressError) as caught:
            await guard.resolve("intranet.test", 443)
    assert "10.1.2.3" not in str(caught.value)
    assert "intranet.test" in caplog.text and "10.1.2.3" in caplog.text


async def test_guard_returns_checked_addresses_in_order() -> None:
    guard = AddressGuard(resolver=resolver_for({"ok.test": ["2606:4700::1", "93.184.216.34"]}))
    assert await guard.resolve("ok.test", 443) == ["2606:4700::1", "93.184.216.34"]


async def test_guard_without_policy_allows_anything() -> None:
    guard = AddressGuard(None, resolver=resolver_for({"lan.test": ["192.168.0.2"]}))
    assert await guard.resolve("lan.test", 80) == ["192.168.0.2"]


# --- fetches refused by default -----------------------------------------------------------

def loopback_urls(server: FeedServer) -> list[str]:
    port = port_of(server)
    return [f"http://127.0.0.1:{port}/feed", f"http://localhost:{port}/feed",
            f"http://[::1]:{port}/feed", f"http://2130706433:{port}/feed",
            f"http://0x7f.1:{port}/feed", f"http://127.1:{port}/feed",
            f"http://[::ffff:127.0.0.1]:{port}/feed"]


async def test_loopback_is_refused_by_default(feed_server: FeedServer) -> None:
    feed_server.route("/feed", lambda r: Response(200, RSS))
    async with Fetcher(allow_private_addresses=False) as fetcher:
        for url in loopback_urls(feed_server):
            with pytest.raises(BlockedAddressError) as caught:
                await fetcher.fetch(url)
            assert caught.value.reason == "blocked-address"
            assert caught.value.args[0].startswith("fetch: refused ")
    assert feed_server.hits("/feed") == []


async def test_setting_off_in_the_environment_refuses(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", lambda r: Response(200, RSS))
    async with Fetcher(Settings.from_env({"NEWSWIRE_ALLOW_PRIVATE_ADDRESSES": "0"})) as fetcher:
        with pytest.raises(BlockedAddressError):
            await fetcher.fetch(url)
    assert feed_server.hits("/feed") == []


async def test_setting_on_allows_loopback(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", lambda r: Response(200, RSS))
    async with Fetcher(Settings.from_env({"NEWSWIRE_ALLOW_PRIVATE_ADDRESSES": "1"})) as fetcher:
        assert (await fetcher.fetch(url)).content == RSS


async def test_cloud_metadata_address_is_refused() -> None:
    async with Fetcher(allow_private_addresses=False) as fetcher:
        with pytest.raises(BlockedAddressError, match=r"169\.254\.169\.254"):
            await fetcher.fetch("http://169.254.169.254/latest/meta-data/")


@pytest.mark.parametrize("host", ["metadata.google.internal", "METADATA.google.internal.", "metadata"])
async def test_metadata_names_are_refused_without_resolving(host: str) -> None:
    calls: list[str] = []
    async with Fetcher(allow_private_addresses=False,
                       resolver=resolver_for({host: ["93.184.216.34"]}, calls)) as fetcher:
        with pytest.raises(BlockedAddressError, match="metadata"):
            await fetcher.fetch(f"http://{host}/computeMetadata/v1/")
    assert calls == []


@pytest.mark.parametrize("answer", [["10.0.0.5"], ["93.184.216.34", "192.168.1.10"], ["::ffff:10.0.0.5"]])
async def test_public_looking_name_resolving_private_is_refused(answer: list[str]) -> None:
    async with Fetcher(allow_private_addresses=False,
                       resolver=resolver_for({"news.example.com": answer})) as fetcher:
        with pytest.raises(BlockedAddressError) as caught:
            await fetcher.fetch("https://news.example.com/feed.xml")
    assert "news.example.com" in str(caught.value)
    assert "private or loopback" in str(caught.value)
    assert not any(address in str(caught.value) for address in answer)


# --- every hop is checked ------------------------------------------------------------------

def only(address: str) -> AddressPolicy:
    """A policy that allows exactly one address: the test server, standing in for the web."""
    def policy(ip: IPAddress) -> bool:
        return ip == ipaddress.ip_address(address)
    return policy


async def test_redirect_to_a_private_host_is_refused_at_the_hop(feed_server: FeedServer) -> None:
    port = port_of(feed_server)
    feed_server.route("/start", lambda r: Response(302, b"", {"Location": f"http://internal.test:{port}/feed"}))
    feed_server.route("/feed", lambda r: Response(200, RSS))
    table = {"feeds.test": ["127.0.0.1"], "internal.test": ["10.0.0.7"]}
    async with Fetcher(address_policy=only("127.0.0.1"), resolver=resolver_for(table)) as fetcher:
        with pytest.raises(BlockedAddressError, match=r"internal\.test") as caught:
            await fetcher.fetch(f"http://feeds.test:{port}/start")
    assert "10.0.0.7" not in str(caught.value)
    assert len(feed_server.hits("/start")) == 1  # the first hop went through
    assert feed_server.hits("/feed") == []


async def test_redirect_to_a_loopback_literal_is_refused_at_the_hop(feed_server: FeedServer) -> None:
    port = port_of(feed_server)
    feed_server.route("/start", lambda r: Response(301, b"", {"Location": f"http://[::1]:{port}/feed"}))
    async with Fetcher(address_policy=only("127.0.0.1"),
                       resolver=resolver_for({"feeds.test": ["127.0.0.1"], "::1": ["::1"]})) as fetcher:
        with pytest.raises(BlockedAddressError, match="::1"):
            await fetcher.fetch(f"http://feeds.test:{port}/start")
    assert len(feed_server.hits("/start")) == 1


async def test_injected_transport_is_guarded_before_sending() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=RSS)

    async with Fetcher(allow_private_addresses=False, transport=httpx.MockTransport(handler),
                       resolver=resolver_for({"evil.test": ["192.168.0.1"], "ok.test": ["93.184.216.34"]})
                       ) as fetcher:
        with pytest.raises(BlockedAddressError):
            await fetcher.fetch("http://evil.test/feed")
        assert sent == []
        assert (await fetcher.fetch("http://ok.test/feed")).content == RSS
    assert [str(r.url) for r in sent] == ["http://ok.test/feed"]


# --- the connection goes where the check looked (DNS rebinding) -----------------------------

async def test_connection_uses_the_checked_address(feed_server: FeedServer) -> None:
    """``feeds.test`` exists only in the guard's resolver; the fetch can reach the server only if
    the connection is made to the address the guard returned, not resolved again."""
    calls: list[str] = []
    port = port_of(feed_server)
    feed_server.route("/feed", lambda r: Response(200, RSS))
    async with Fetcher(address_policy=only("127.0.0.1"),
                       resolver=resolver_for({"feeds.test": ["127.0.0.1"]}, calls)) as fetcher:
        result = await fetcher.fetch(f"http://feeds.test:{port}/feed")
    assert result.content == RSS
    assert calls == ["feeds.test"]  # one lookup: the check and the connection are the same
    assert feed_server.hits("/feed")[0].headers["host"] == f"feeds.test:{port}"


async def test_rebinding_answer_cannot_reach_a_private_address(feed_server: FeedServer) -> None:
    """A name that answers the allowed address once and a private one afterwards: every new
    connection is checked against the answer it actually uses."""
    answers = iter([["127.0.0.1"], ["10.0.0.9"]])
    port = port_of(feed_server)
    feed_server.route("/feed", lambda r: Response(200, RSS, {"Connection": "close"}))

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    async with Fetcher(address_policy=only("127.0.0.1"), resolver=rebinding) as fetcher:
        assert (await fetcher.fetch(f"http://rebind.test:{port}/feed")).content == RSS
        with pytest.raises(BlockedAddressError, match=r"rebind\.test"):
            await fetcher.fetch(f"http://rebind.test:{port}/feed")
    assert len(feed_server.hits("/feed")) == 1


async def test_fallback_to_the_next_checked_address(feed_server: FeedServer) -> None:
    """localhost often answers ::1 first; the server listens on 127.0.0.1 only."""
    port = port_of(feed_server)
    feed_server.route("/feed", lambda r: Response(200, RSS))
    async with Fetcher(LOOPBACK, resolver=resolver_for({"dual.test": ["::1", "127.0.0.1"]})) as fetcher:
        assert (await fetcher.fetch(f"http://dual.test:{port}/feed")).content == RSS
