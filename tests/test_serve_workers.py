"""``newswire serve --workers N``: several processes answer on one port, each page and each
form works whichever of them answers, and none outlives the command."""

from __future__ import annotations

import contextlib
import signal
import socket
import time

import httpx
import pytest

from newswire.store import Store
from newswire.testing.processes import descendants, still_running
from newswire.testing.signin import sign_in
from test_pages import _flash
from test_run import (DEADLINE, FEEDS, PER_FEED, Process, article_counts, followed, free_port,  # noqa: F401
                      wait_until, web_answers)


@contextlib.contextmanager
def paused(pid: int):
    """``pid`` stopped (SIGSTOP) for the block: it accepts nothing, so the others answer."""
    import os

    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def all_gone(processes: list) -> bool:
    """Whether ``processes`` have all ended, waiting up to ``DEADLINE`` for them."""
    deadline = time.monotonic() + DEADLINE
    while still_running(processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not still_running(processes)


@pytest.fixture
def served(tmp_path):
    url = f"sqlite:///{tmp_path / 'wire.db'}"
    with Store(url) as store:
        source = store.add_source("http://127.0.0.1:9/herald.xml", name="The Herald")
    port = free_port()
    process = Process("serve", "--database", url, "--port", str(port), "--workers", "2")
    try:
        wait_until(lambda: web_answers(port), "the web server", process)
        yield process, port, url, source
    finally:
        process.kill()


def test_two_processes_each_answer_and_a_form_s_notice_reaches_the_other(served) -> None:
    process, port, url, source = served
    children = descendants(process.proc.pid)
    assert len(children) == 1, children
    child = children[0].pid
    base = f"http://127.0.0.1:{port}"
    fresh = httpx.Limits(max_keepalive_connections=0)  # each request a new connection
    with Store(url) as store, httpx.Client(base_url=base, timeout=DEADLINE, limits=fresh) as client:
        sign_in(client, store)
        for answering, stopped in ((process.proc.pid, child), (child, process.proc.pid)):
            with paused(stopped):  # only ``answering`` accepts
                assert client.get("/").status_code == 200
                assert client.get(f"/sources/{source.id}").status_code == 200
        with paused(child):  # the parent takes the form
            done = client.post(f"/sources/{source.id}/pause")
        assert done.status_code == 303
        with paused(process.proc.pid):  # the child opens the redirect
            assert _flash(client.get(done.headers["location"]).text) == "ok: Paused The Herald."
        assert _flash(client.get(done.headers["location"]).text) == ""  # shown once, by either
    assert process.stop(signal.SIGTERM) == 0
    assert process.output.count("Stopped cleanly.") == 1, process.output
    assert "with 2 processes" in process.output
    assert all_gone(children)


def test_the_other_processes_end_with_a_killed_parent(served) -> None:
    process, port, _, _ = served
    children = descendants(process.proc.pid)
    assert children
    process.kill()  # SIGKILL: no clean-up of its own
    assert all_gone(children)
    with socket.socket() as s:  # and the port is free again
        s.bind(("127.0.0.1", port))


def test_a_server_leaves_its_start_up_heap_out_of_full_collections_but_no_garbage() -> None:
    import gc
    import weakref

    from newswire.cli_serve import _freeze_heap

    class Node:
        pass

    cycle = Node()
    cycle.me = cycle  # garbage only a collection can free
    gone = weakref.ref(cycle)
    del cycle
    try:
        _freeze_heap()
        assert gone() is None  # collected, not kept for good
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_run_with_two_web_processes_fetches_each_feed_once_and_both_serve_it(followed) -> None:  # noqa: F811
    port = free_port()
    process = Process("run", "--port", str(port), "--database", f"sqlite:///{followed}", "--workers", "2")
    try:
        wait_until(lambda: web_answers(port), "the web server", process)
        wait_until(lambda: sum(article_counts(followed).values()) == FEEDS * PER_FEED, "every article", process)
        everyone = descendants(process.proc.pid)
        with paused(process.proc.pid), httpx.Client(timeout=DEADLINE) as client:  # the scheduler's own process
            page = client.get(f"http://127.0.0.1:{port}/")  # answered by the other one
        assert page.status_code == 200 and page.text.count('href="/articles/') >= PER_FEED

        def fetched_in_metrics_of_the_other() -> bool:  # the scheduler's counters, shared through the database
            with paused(process.proc.pid), httpx.Client(timeout=DEADLINE) as client:
                text = client.get(f"http://127.0.0.1:{port}/metrics").text
            fetched = [line for line in text.splitlines()
                       if line.startswith('newswire_fetches_total{outcome="fetched"')]
            return bool(fetched) and float(fetched[0].rsplit(" ", 1)[1]) == FEEDS

        wait_until(fetched_in_metrics_of_the_other, "the fetches in the other process's /metrics", process)
        assert process.stop(signal.SIGTERM) == 0
    finally:
        process.kill()
    assert process.output.count("Stopped cleanly.") == 1, process.output
    assert "2 web server processes" in process.output
    assert all_gone(everyone)  # the parse pool's forkserver ends a moment after its parent
    assert set(article_counts(followed).values()) == {PER_FEED}  # fetched by the scheduler alone, once
