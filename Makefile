# Two commands: `make run` (dashboard on the demo data) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
UV := .tools/bin/uv
VENV := .venv
PORT ?= 8501
export UV_COMPILE_BYTECODE := 1
export GX_ANALYTICS_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test demo docs bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install -q "uv==0.13.9"

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	@touch $@

run: $(VENV)/.synced
	@test -f "$${PEER_DB:-data/warehouse.duckdb}" || $(VENV)/bin/python -m pipelines demo
	$(VENV)/bin/python -m dashboard.serve --server.port $(PORT) --server.headless true \
		--browser.gatherUsageStats false

test: $(VENV)/.synced
	$(VENV)/bin/python -m pytest

demo: $(VENV)/.synced
	$(VENV)/bin/python -m pipelines demo

docs: $(VENV)/.synced
	$(VENV)/bin/python -m pipelines.docgen

bench: $(VENV)/.synced
	$(VENV)/bin/python bench/ingest.py
	$(VENV)/bin/python bench/pages.py
	$(VENV)/bin/python bench/upload.py
	$(VENV)/bin/python bench/season.py
	$(VENV)/bin/python bench/viewers.py
	$(VENV)/bin/python bench/privacy.py
	$(VENV)/bin/python bench/workbench.py

clean:
	rm -rf $(VENV) .tools data/warehouse.duckdb data/warehouse.duckdb.wal data/warehouse.audit.duckdb data/warehouse.audit.duckdb.wal data/published
