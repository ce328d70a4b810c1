"""The web edge: server-rendered pages, the live wire (SSE), the JSON API, feeds out, health
and metrics. Reads through ``Store`` only; never fetches."""

from .app import create_app

__all__ = ["create_app"]
