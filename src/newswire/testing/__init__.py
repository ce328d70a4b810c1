"""Tools for tests, benchmarks and the demo: a loopback feed server and a generator of
fictional outlets and articles. Nothing here touches the network beyond 127.0.0.1."""

from newswire.config import Settings

# Settings for tests and benchmarks whose feeds are served on 127.0.0.1.
LOOPBACK = Settings(allow_private_addresses=True)
