"""Schemathesis against /openapi.json: every documented operation, with generated parameters,
answers without a server error and as its schema says (status, content type, body)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from newswire.store import Store
from newswire.web.app import create_app
from test_api import seed

# The schema is read when the module is collected; the seeded store is attached per module run.
app = create_app(None, bound_hosts=("testserver",))  # type: ignore[arg-type]  # its in-process client's name
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def seeded_store(tmp_path_factory):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('schema') / 'newswire.db'}")
    seed(store)
    app.state.store = store
    yield store
    store.close()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_responses_match_the_schema(case):
    case.call_and_validate()
