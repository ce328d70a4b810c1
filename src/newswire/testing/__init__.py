"""Tools for tests, benchmarks and the demo: a loopback feed server and a generator of
fictional outlets and articles. Nothing here touches the network beyond 127.0.0.1."""
