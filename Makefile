# DVC Pulse. Quick start: `make up` (run everything), `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: install up test lint check-schemas bench clean tools reliability fuzz screenshots mutate

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

## The fault suite alone (tests/faults, ~5 min), then its measured table in docs/reliability.md (even when a case
## fails: the table then shows what was lost). PostgreSQL rows need DVC_TEST_POSTGRES_URL.
reliability: install
	rm -f var/faults-results.json
	status=0; $(BIN)/pytest -q -p no:cacheprovider -m faults tests/faults || status=$$?; \
	$(BIN)/python -m tests.faults.report && exit $$status

## Longer fuzzing (tests/fuzz): FUZZ_EXAMPLES per API operation (default 300), a new seed each run unless
## FUZZ_SEED is given (printed, so a failure can be replayed). `make test` runs the same tests bounded.
fuzz: install
	@seed=$${FUZZ_SEED:-$$(date +%s)}; echo "fuzz seed $$seed (replay: make fuzz FUZZ_SEED=$$seed)"; \
	DVC_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} DVC_FUZZ_SEED=$$seed $(BIN)/pytest -q -p no:cacheprovider -s -m fuzz \
		-o timeout=3600 tests/fuzz

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

## Mutation testing of the pure rules (services/*/domain, ingest's validation among them) with mutmut, killed by
## the unit tests listed in pyproject.toml [tool.mutmut]; long, so never part of `make test`. MUTATE_JOBS children
## (default 1), MUTANTS a glob to run a part (e.g. MUTANTS='services.notifier.domain.text.*'). Results stay in
## mutants/; `.venv/bin/mutmut results` lists the survivors, `mutmut show NAME` one diff.
MUTATE_JOBS ?= 1
mutate: install
	$(BIN)/mutmut run --max-children $(MUTATE_JOBS) $(MUTANTS)
	$(BIN)/mutmut export-cicd-stats && cat mutants/mutmut-cicd-stats.json && echo

bench: install
	$(BIN)/python -m benchmarks $(BENCH)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache mutants
