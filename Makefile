# Every target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test test-fast lint format bench assets clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# GraphiQL's JavaScript and CSS, from the npm registry, so the explorer works offline.
assets:
	@if command -v npm >/dev/null 2>&1; then \
		npm install --no-audit --no-fund --loglevel=error >/dev/null && echo "GraphiQL assets installed in node_modules/"; \
	else \
		echo "npm not found: GraphiQL will load its assets from a CDN"; \
	fi

demo: $(STAMP)
	@$(MAKE) --no-print-directory assets || true
	$(BIN)/coursegraph seed
	@echo ""
	@echo "  coursegraph is serving GraphQL + GraphiQL at http://127.0.0.1:8000/graphql"
	@echo "  Try:  { courses { nodes { courseNumber name } } }"
	@echo "  Try:  { course(courseNumber: \"BIO-101-F26\") { groups { nodes { name memberIds } } } }"
	@echo ""
	$(BIN)/coursegraph serve

serve: $(STAMP)
	$(BIN)/coursegraph serve

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/query.py

clean:
	rm -rf $(VENV) node_modules coursegraph.db coursegraph.db-wal coursegraph.db-shm
