# Two commands: `make run` (`make run PORT=8080` for another port) and `make test`. Each creates .venv when it is missing and installs
# what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
PORT ?= 8000
# Test workers (pytest-xdist). A test module stays on one worker, so its module fixtures are
# built once; each worker gets its own PostgreSQL scratch database (tests/conftest.py).
TEST_WORKERS ?= 2

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/newswire run --port $(PORT)

test: $(STAMP)
	$(BIN)/ruff check --select F,E9 src tests bench
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .hypothesis
