"""Tools for tests, benchmarks and the demo: a loopback feed server and a generator of
fictional outlets and articles. Nothing here touches the network beyond 127.0.0.1."""

from newswire.config import Settings

# Settings for tests and benchmarks whose feeds are served on 127.0.0.1. One loopback server
# stands in for many publishers, so its requests are not spaced out as one host's would be
# (NEWSWIRE_HOST_INTERVAL); the politeness tests set an interval of their own.
LOOPBACK = Settings(allow_private_addresses=True, host_interval=0.0)
