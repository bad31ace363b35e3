# DVC Pulse. Quick start: `make up` (run everything), `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: install up test lint check-schemas bench clean tools screenshots

$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q uv==$(UV_VERSION); }
	$(BIN)/uv sync --locked --quiet
	@touch $@

install: $(VENV)/.installed

## Start embedded NATS, the streams, every service and the simulator (SIM=0: no simulator). Ctrl-C stops all.
up: install
	$(BIN)/dvc-pulse up $(if $(filter 0,$(SIM)),--no-simulate,)

lint: install
	$(BIN)/ruff check services tests benchmarks
	$(BIN)/ruff format --check services tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

## Static checks, then every test (PostgreSQL too when DVC_TEST_POSTGRES_URL is set).
test: lint
	$(BIN)/pytest -q -p no:cacheprovider

## Optional tools, as root with apt-get (`.ci/run` installs them too): promtool for tests/deploy/test_promtool.py,
## chromium and chromium-driver for the browser tests (tests/web) and `make screenshots`.
tools:
	.ci/run tools

## PNGs of the console, a dossier and the citizen lookup at desktop and phone width into docs/screenshots/
## (starts its own services fed by the simulator; needs Debian's chromium and chromium-driver: `make tools`).
screenshots: install
	DVC_SCREENSHOTS=docs/screenshots DVC_WEB_SIMULATED_DAYS=12 $(BIN)/pytest -q -p no:cacheprovider tests/web/test_screenshots.py

## Fail when docs/schemas/ drifted from the event models (regenerate: dvc-pulse ingest export-schemas).
check-schemas: install
	$(BIN)/dvc-pulse ingest export-schemas --check

bench: install
	$(BIN)/python -m benchmarks $(BENCH)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
