"""The fetch stage: the only code that talks to the network.

``Fetcher`` (client.py) turns a feed URL into a ``FetchResult`` or a ``FetchError``; the address
guard (guard.py) and the pinned transport (transport.py) keep it off private networks;
caching.py reads freshness and Retry-After for the scheduler; errors.py is the one place where
third-party exceptions become ours.
"""

from newswire.fetch.caching import freshness_seconds, retry_after_seconds
from newswire.fetch.client import FEED_ACCEPT, Fetcher
from newswire.fetch.errors import RateLimitedError
from newswire.fetch.guard import AddressGuard, is_public_address

__all__ = [
    "FEED_ACCEPT", "AddressGuard", "Fetcher", "RateLimitedError", "freshness_seconds",
    "is_public_address", "retry_after_seconds",
]
