"""The long-running commands ask glibc for fewer malloc arenas, unless the environment says."""

from __future__ import annotations

import platform
import sys

import pytest

from newswire import cli_serve
from newswire.malloc import fewer_arenas

glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                           reason="glibc's mallopt")


@glibc
def test_glibc_takes_the_arena_limit(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert fewer_arenas() is True


def test_a_limit_in_the_environment_is_left_alone(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert fewer_arenas() is False


@pytest.mark.parametrize("command", ["run", "serve", "worker"])
def test_the_long_running_commands_ask_first(command, monkeypatch):
    asked = []

    class Stop(Exception):
        pass

    def opened(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(cli_serve, "fewer_arenas", lambda: asked.append(command))
    monkeypatch.setattr(cli_serve, "_open", opened)
    with pytest.raises(Stop):
        getattr(cli_serve, command)(database="sqlite:///unused.db")
    assert asked == [command]
