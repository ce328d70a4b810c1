"""One-shot notices (the sources and users pages' "Paused The Herald."), kept in the database so
that the page a redirect opens shows them whichever web process serves it."""

from __future__ import annotations

from unittest import mock

from newswire.store import Store
from newswire.store import server_values


def test_a_notice_is_shown_once_by_any_process_on_the_database(store, database_url) -> None:
    token = store.put_notice("ok", "Paused The Herald.")
    with Store(database_url) as other:  # another web process
        assert other.take_notice(token) == ("ok", "Paused The Herald.")
        assert other.take_notice(token) is None
    assert store.take_notice(token) is None


def test_tokens_nobody_made_show_nothing(store) -> None:
    store.put_notice("error", "Could not follow it.")
    for token in (None, "", "x", "12-abc", "1700000000", "1700000000-", "notice:1700000000:abc",
                  "1700000000-" + "a" * 40, "１７００００００００-abc", "1700000000-\x00"):
        assert store.take_notice(token) is None


def test_notices_nobody_opened_are_dropped_after_an_hour(store) -> None:
    with mock.patch("newswire.store.store.time.time", return_value=1_700_000_000):
        old = store.put_notice("ok", "Old.")
    with mock.patch("newswire.store.store.time.time", return_value=1_700_000_000 + server_values.NOTICE_LIFETIME + 1):
        fresh = store.put_notice("ok", "Fresh.")
    assert store.take_notice(old) is None
    assert store.take_notice(fresh) == ("ok", "Fresh.")
