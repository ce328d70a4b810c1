"""The PostgreSQL deployment as an operator runs it, with real processes: two `newswire worker
--enrich` and a `newswire serve` on one database, a teaser feed and its pages on 127.0.0.1.

One test walks it all, as processes are slow to start: the workers extract the teasers' pages
(no `newswire run` anywhere), their fetch counters reach the web node's /metrics, one worker
enriches while the other waits, and after a `kill -9` of the enricher the other takes over and
enriches what is stored after."""

from __future__ import annotations

import signal
from datetime import datetime, timedelta, timezone

import httpx
import sqlalchemy as sa

from newswire.models import Entry, SourceUpdate
from newswire.store import Store
from test_fulltext import publish
from test_ops import parse_exposition
from test_run import Process, free_port, wait_until, web_answers

ENRICHING = "enriching: copy detection"
WAITING = "another process is enriching"


def scrape(port: int) -> dict:
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    return parse_exposition(response.text) if response.status_code == 200 else {}


def store_two_more(store: Store, source_id: int, guid: str, title: str, word: str) -> None:
    """Two articles stored by another process five minutes ago, for the enricher to follow."""
    recent = datetime.now(timezone.utc) - timedelta(minutes=5)
    body = " ".join(f"{word}{i}" for i in range(80))
    later = [Entry(guid=f"{guid}-{i}", url=None, title=f"{title} story {i}", published=recent,
                   content_html=f"<p>{body}</p>", text=body, snippet=body[:80]) for i in range(2)]
    store.save_refresh(source_id, SourceUpdate(fetched_at=recent, status="ok",
                                               next_due_at=recent + timedelta(hours=1)), later)


def test_workers_extract_report_their_fetches_and_hand_over_enrichment(feed_server):
    from conftest import throwaway_postgres_database

    with throwaway_postgres_database("newswire_deploy") as url:
        with Store(url) as store:
            _, articles, feed = publish(feed_server, n=4, teaser=True)
            source = store.add_source(feed, full_text=True)
            port = free_port()
            processes = [Process("serve", "--database", url, "--port", str(port))]
            processes += [Process("worker", "--enrich", "--database", url) for _ in range(2)]
            try:
                web, first, second = processes
                wait_until(lambda: web_answers(port), "the web node", web)
                wait_until(lambda: ENRICHING in first.output or ENRICHING in second.output, "an enricher", first)
                enricher, waiter = (first, second) if ENRICHING in first.output else (second, first)
                wait_until(lambda: WAITING in waiter.output, "the other worker to wait", waiter)
                assert ENRICHING not in waiter.output

                # Every worker extracts: the teasers get their pages' text.
                def extracted():
                    stored = store.get_articles([a.id for a in store.list_articles(source_id=source.id).items])
                    return len(stored) == len(articles) and all(a.extraction_status == "done" and a.page_html for a in stored)
                wait_until(extracted, "the pages extracted by the workers", waiter)

                # The workers' fetches reach the web node's /metrics.
                def counted():
                    found = scrape(port)
                    fetched = found.get("newswire_fetches_total", {}).get((("outcome", "fetched"), ("reason", "none")))
                    return fetched == 1 and found["newswire_workers_reporting"] == {(): 2}
                wait_until(counted, "the workers' fetch in /metrics", web)

                # The enricher dies; the other takes over and enriches what is stored after.
                enricher.proc.send_signal(signal.SIGKILL)
                enricher.proc.wait()
                wait_until(lambda: ENRICHING in waiter.output, "the waiting worker to take over", waiter)
                store_two_more(store, source.id, "later", "Later", "harbour")

                def enriched():
                    items = store.list_articles(include_copies=True, limit=50).items
                    new = [a for a in items if a.guid.startswith("later-")]
                    return len(new) == 2 and all(a.story_id for a in new)
                wait_until(enriched, "the new articles enriched by the worker that took over", waiter)
                assert waiter.stop(signal.SIGTERM) == 0 and "Stopped cleanly." in waiter.output
            finally:
                for process in processes:
                    process.kill()


def test_run_leaves_enrichment_to_the_enrich_worker_and_takes_over_when_it_dies(feed_server):
    """`newswire run` beside a `newswire worker --enrich` on one database: one enricher. The
    worker holds the lock; `run` fetches, extracts and serves meanwhile, and enriches (what every
    process stores) once the worker is killed."""
    from conftest import throwaway_postgres_database

    with throwaway_postgres_database("newswire_run_lock") as url:
        with Store(url) as store:
            _, articles, feed = publish(feed_server, n=3, teaser=True)
            enricher = Process("worker", "--enrich", "--database", url)
            run = None
            try:
                wait_until(lambda: ENRICHING in enricher.output, "the worker to enrich", enricher)
                port = free_port()
                run = Process("run", "--database", url, "--port", str(port))
                wait_until(lambda: web_answers(port) and WAITING in run.output, "run to serve and wait", run)
                source = store.add_source(feed, full_text=True)

                def extracted_and_enriched():  # by whichever fetched it; the worker gives the stories
                    stored = store.get_articles([a.id for a in store.list_articles(source_id=source.id).items])
                    return len(stored) == len(articles) and all(a.extraction_status == "done" and a.story_id
                                                                for a in stored)
                wait_until(extracted_and_enriched, "the teasers extracted and enriched", run)
                assert ENRICHING not in run.output, run.output

                enricher.proc.send_signal(signal.SIGKILL)
                enricher.proc.wait()
                wait_until(lambda: ENRICHING in run.output, "run to take the enricher's role", run)
                store_two_more(store, source.id, "after", "After", "quay")

                def enriched():
                    new = [a for a in store.list_articles(include_copies=True, limit=50).items
                           if a.guid.startswith("after-")]
                    return len(new) == 2 and all(a.story_id for a in new)
                wait_until(enriched, "what is stored after, enriched by run", run)
                assert run.stop(signal.SIGTERM) == 0 and "Stopped cleanly." in run.output
            finally:
                enricher.kill()
                if run is not None:
                    run.kill()


def test_no_teaser_is_left_unmarked_by_a_killed_worker_with_no_enrich_worker(feed_server):
    """Plain workers only (nothing enriches): a worker killed with SIGKILL as soon as its
    teasers are stored leaves every one of them marked for extraction, and the next worker
    extracts them all."""
    from conftest import throwaway_postgres_database

    with throwaway_postgres_database("newswire_teasers") as url:
        with Store(url) as store:
            _, articles, feed = publish(feed_server, n=8, teaser=True)
            source = store.add_source(feed)  # not full_text: the teasers are told by their text

            def statuses() -> list:
                with store._read() as conn:
                    return [row[0] for row in conn.execute(sa.text(
                        "SELECT extraction_status FROM articles WHERE source_id = :s"), {"s": source.id})]

            first = Process("worker", "--database", url, "--lease", "30")
            try:
                wait_until(lambda: len(statuses()) == len(articles), "the teasers stored", first)
                first.proc.send_signal(signal.SIGKILL)
                first.proc.wait()
            finally:
                first.kill()
            assert None not in statuses()  # marked by the write that stored them
            second = Process("worker", "--database", url, "--lease", "30")
            try:
                wait_until(lambda: statuses() == ["done"] * len(articles), "the pages extracted", second)
                assert second.stop(signal.SIGTERM) == 0
            finally:
                second.kill()
