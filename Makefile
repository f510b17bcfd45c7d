# esep — thin wrapper over the `esep` CLI. `make` (or `make help`) lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.esep-installed

.DEFAULT_GOAL := help
.PHONY: help install report build test test-fast faults bench lab edit clean clean-all

help: ## List the targets with a one-line description
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): on Debian/Ubuntu run 'sudo apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (esep)" >/dev/null
	@touch $(STAMP)

install: $(STAMP) ## Create .venv/ and install esep with all dependencies and the Jupyter kernel
	@# jsonschema without rfc3987-syntax's 1.5 s start-up cost in every process (src/esep/lazy_imports.py)
	@$(BIN)/python -c 'import esep.lazy_imports as m; m.main(["--install"])' >/dev/null

report: install ## Set everything up and build every report from data/raw (HTML + PDF)
	$(BIN)/esep build
	@echo "Open: $(CURDIR)/output/index.html"

build: install ## Build every report (skips what is up to date)
	$(BIN)/esep build

test: install ## Run the whole test suite (unit + integration)
	$(BIN)/python -m pytest -q

test-fast: install ## Run only the fast unit tests
	$(BIN)/python -m pytest -q -m "not integration"

faults: install ## Fault tests: kill -9 mid-build and between renames, full disk, read-only output, races, injected markup
	$(BIN)/python -m pytest -q tests/test_faults.py tests/test_faults_input.py tests/test_injection.py

bench: install ## Benchmark esep against the plain papermill + nbconvert loop
	$(BIN)/python benchmarks/bench_build.py

ROOT_FLAG = $(if $(filter 0,$(shell id -u)),--allow-root)

lab: install ## JupyterLab on output/ (analysts; editors use `make edit`); saves are recorded like the editor's
	JUPYTER_CONFIG_DIR="$$($(BIN)/python -m esep.pipeline.editdesk)" $(BIN)/jupyter lab --notebook-dir=output $(ROOT_FLAG)

edit: install ## Edit a report's text in the browser: make edit REPORT=city_innovation PERIOD=2023-2024-S2
	@test -n "$(REPORT)" -a -n "$(PERIOD)" || { echo "usage: make edit REPORT=<report> PERIOD=<period> [ONLY=<region>]"; exit 1; }
	$(BIN)/esep edit $(REPORT) --period $(PERIOD) $(if $(ONLY),--only $(ONLY))

clean: ## Remove generated outputs and processed data (keeps .venv)
	rm -rf output/* output/.esep data/processed/*

clean-all: clean ## Also remove the virtual environment
	rm -rf $(VENV)
