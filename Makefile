# esep — thin wrapper over the `esep` CLI. `make` (or `make help`) lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.esep-installed

.DEFAULT_GOAL := help
.PHONY: help fonts install browser report build test test-fast faults bench bench-scale proof lab edit clean clean-all

help: ## List the targets with a one-line description
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): on Debian/Ubuntu run 'sudo apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (esep)" >/dev/null
	@touch $(STAMP)

fonts: ## Fonts with every Kazakh letter for PDF and charts (DejaVu; apt, when root)
	@fc-list 2>/dev/null | grep -q "DejaVu Sans" || { [ "$$(id -u)" = 0 ] && { apt-get install -y fonts-dejavu-core >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y fonts-dejavu-core >/dev/null 2>&1; }; }; } \
	  || echo "DejaVu Sans not found: PDFs fall back to Typst's bundled Libertinus (sudo apt-get install fonts-dejavu-core)"

install: $(STAMP) fonts ## Create .venv/ and install esep with all dependencies and the Jupyter kernel
	@# jsonschema without rfc3987-syntax's 1.5 s start-up cost in every process (src/esep/lazy_imports.py)
	@$(BIN)/python -c 'import esep.lazy_imports as m; m.main(["--install"])' >/dev/null

browser: ## Headless Chromium for the proof sheets and the browser tests (apt, when root)
	@if [ -x /usr/bin/chromium ] || [ -n "$$ESEP_CHROMIUM" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  { apt-get install -y chromium fonts-dejavu-core >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y chromium fonts-dejavu-core >/dev/null 2>&1; }; } \
	    || echo "chromium not installed: browser tests will be skipped"; \
	else echo "no /usr/bin/chromium (sudo apt-get install chromium): browser tests will be skipped"; fi
	@command -v pdftoppm >/dev/null || { [ "$$(id -u)" = 0 ] && { apt-get install -y poppler-utils >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y poppler-utils >/dev/null 2>&1; }; }; } || true

report: install ## Set everything up and build every report from data/raw (HTML + PDF)
	$(BIN)/esep build
	@echo "Open: $(CURDIR)/output/index.html"

build: install ## Build every report (skips what is up to date)
	$(BIN)/esep build

test: install browser ## Run the whole test suite (unit + integration + browser)
	$(BIN)/python -m pytest -q

test-fast: install ## Run only the fast unit tests
	$(BIN)/python -m pytest -q -m "not integration"

faults: install ## Fault tests: kill -9 mid-build and between renames, full disk, read-only output, races, injected markup
	$(BIN)/python -m pytest -q tests/test_faults.py tests/test_faults_input.py tests/test_injection.py

bench: install ## Benchmark esep against the plain papermill + nbconvert loop, and the PDF engines
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python benchmarks/bench_pdf.py

bench-scale: install ## Scale benchmark: 100/300/1000 school reports from synthetic forms, local pool and Dask
	$(BIN)/python benchmarks/bench_scale.py

proof: install browser ## Contact sheets of every built report (PDF, HTML 1280/390 px) in output/proof/
	$(BIN)/esep proof

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
