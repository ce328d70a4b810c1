"""Newswire: a self-hostable newswire that follows publishers' feeds and serves a live wire."""

__version__ = "0.1.0"
