# `make run` and `make test` each create or refresh .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test check lint lint-js bench clean

# Python may write bytecode caches (__pycache__/, git-ignored) even where the environment says not
# to: without them every server the tests start compiles src/ again (about 0.45 s each) and every
# pytest worker rewrites the asserts of every test module again (about 5 s each).
unexport PYTHONDONTWRITEBYTECODE

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The package is installed editable, with its dependencies, once (and again when pyproject.toml
# changes): edits to src/, templates/ and static/ take effect without reinstalling. What the
# wheel ships is checked by tests/e2e/test_lifecycle.py, which builds one.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# issuebridge serve: uvloop and httptools, a deadline for request headers, a connection limit.
run: install
	$(BIN)/issuebridge serve --host $(HOST) --port $(PORT)

# MCP clients we did not write (conformance suite, TypeScript SDK, Inspector), run by tests/e2e
# with the venv's Node 24; reinstalled when tests/node/package-lock.json changes.
NODE_DIR := tests/node
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package-lock.json | $(VENV)/.installed
	$(BIN)/npm ci --prefix $(NODE_DIR) --no-audit --no-fund
	touch $@

# Everything, spread by pytest-xdist over four workers (each with its own redis-server and
# Chromium), with the coverage of src/issuebridge summed up at the end. The tests wait on sockets
# and processes much of the time, so four workers keep two cores busy (timings: docs/testing.md).
XDIST ?= -n 4
COVERAGE ?= --cov --cov-report=term
test: install $(NODE_DIR)/node_modules/.installed
	$(BIN)/pytest $(XDIST) $(COVERAGE) $(PYTEST_ARGS)

# The edit loop: lint, then the unit tests (tests/test_*.py: no end-to-end, browser or Node
# client tests, no benchmarks), in well under a minute. `make test` runs them all.
CHECK_TESTS ?= tests --ignore=tests/e2e --ignore=tests/test_bench_smoke.py
check: lint
	$(BIN)/pytest $(XDIST) -q $(CHECK_TESTS) $(PYTEST_ARGS)

# ESLint for static/, pinned in lint/package-lock.json and run with the venv's Node 24;
# reinstalled when the lock file changes.
LINT_JS := lint
$(LINT_JS)/node_modules/.installed: $(LINT_JS)/package-lock.json | $(VENV)/.installed
	$(BIN)/npm ci --prefix $(LINT_JS) --no-audit --no-fund
	touch $@

lint: install lint-js
	$(BIN)/ruff check src tests bench testkit
	$(BIN)/ruff format --check src tests bench testkit
	$(BIN)/mypy

lint-js: $(LINT_JS)/node_modules/.installed
	$(BIN)/node $(LINT_JS)/node_modules/eslint/bin/eslint.js --config $(LINT_JS)/eslint.config.mjs static

clean:
	rm -rf $(VENV) build dist .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache $(NODE_DIR)/node_modules $(LINT_JS)/node_modules

bench: install
	$(BIN)/python -m bench
