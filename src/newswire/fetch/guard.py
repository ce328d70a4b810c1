"""The address guard: which hosts a feed URL may make us connect to.

Feed URLs come from strangers (OPML files, discovery, redirects), so a fetcher that connects
wherever a URL points can be steered at the machine's own services, the home or office network,
or a cloud metadata endpoint that hands out credentials (server-side request forgery). The guard
resolves a host once and refuses it when *any* resolved address is not globally routable; the
transport then connects only to the addresses the guard returned (see ``transport.py``), so a DNS
answer that changes between the check and the connection (DNS rebinding) cannot slip through.

Pure parts (``is_public_address``, ``check_addresses``) are separate from the resolving part
(``AddressGuard``) so the policy can be tested without a resolver.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from typing import Awaitable, Callable, Iterable

from newswire.errors import BlockedAddressError

log = logging.getLogger(__name__)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
AddressPolicy = Callable[[IPAddress], bool]

# Names that cloud providers answer with their metadata service. They resolve to link-local
# addresses (refused anyway) on the cloud, but a split-horizon resolver may say otherwise.
METADATA_HOSTNAMES = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "metadata.azure.internal",
    "instance-data", "instance-data.ec2.internal", "metadata.tencentyun.com",
})

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64, Teredo), if any:
    ``::ffff:127.0.0.1`` reaches loopback as surely as ``127.0.0.1`` does."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress) -> bool:
    """True when ``ip`` is globally routable: not loopback, private, link-local (incl.
    169.254.169.254), CGNAT, unspecified, multicast, reserved, nor an IPv6 form of one of those."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:  # a zone index only makes sense on a local link
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(embedded)
        if ip.is_site_local:
            return False
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return False
    return ip.is_global and not (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
        or ip.is_reserved or ip.is_unspecified
    )


def check_addresses(host: str, addresses: Iterable[str], policy: AddressPolicy) -> list[str]:
    """Return ``addresses`` if the policy allows every one; else raise BlockedAddressError.

    All must pass, not just one: the connection may use any of them. The error names the host
    but not the address: it is shown to whoever added the feed, and what an internal name
    resolves to is a map of the network; the address goes to the log for the operator."""
    checked = list(addresses)
    for address in checked:
        ip = ipaddress.ip_address(address)
        if not policy(ip):
            log.info("fetch: refused %s: it resolves to %s, which is not a public address", host, address)
            raise BlockedAddressError(
                f"fetch: refused {host}: it resolves to a private or loopback address (not a public "
                "address; set NEWSWIRE_ALLOW_PRIVATE_ADDRESSES=1 to allow it)"
            )
    return checked


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the operating system, as a connection would (``getaddrinfo`` also turns
    ``2130706433`` or ``0x7f.1`` into ``127.0.0.1``, so odd IP spellings are checked too)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))  # unique, in resolver order


class AddressGuard:
    """Resolve a host and vet every address it resolves to.

    ``policy`` decides per address; ``None`` allows everything (NEWSWIRE_ALLOW_PRIVATE_ADDRESSES),
    though the host is still resolved here so the transport connects to what was resolved.
    """

    def __init__(self, policy: AddressPolicy | None = is_public_address,
                 resolver: Resolver | None = None):
        self.policy = policy
        self._resolver = resolver or system_resolver

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host``; raises BlockedAddressError, or OSError
        (``socket.gaierror``) when the name does not resolve."""
        name = host.lower().rstrip(".")
        if self.policy is not None and name in METADATA_HOSTNAMES:
            raise BlockedAddressError(f"fetch: refused {host}: it is a cloud metadata service name")
        addresses = await self._resolver(host, port)
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"no address for {host}")
        if self.policy is None:
            return list(addresses)
        return check_addresses(host, addresses, self.policy)
