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

# GraphiQL's JavaScript and CSS, from the npm registry, so the explorer works offline (and,
# as devDependencies, the JavaScript clients the tests drive: graphql-ws, Apollo Client).
# `npm ci` installs exactly package-lock.json; it runs again only when package.json or the
# lock changed since (npm keeps its own copy of the lock in node_modules/). Without npm, or
# when the registry is out of reach, GraphiQL still opens: its page loads the same files
# from a CDN and says how to install them.
ASSETS_LOCK := node_modules/.package-lock.json

assets:
	@if [ -f $(ASSETS_LOCK) ] && [ -f node_modules/graphiql/graphiql.min.js ] && [ $(ASSETS_LOCK) -nt package.json ] && [ $(ASSETS_LOCK) -nt package-lock.json ]; then \
		echo "GraphiQL assets are up to date in node_modules/"; \
	elif command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error >/dev/null && echo "GraphiQL assets installed in node_modules/"; \
	else \
		echo "npm not found: GraphiQL will load its assets from a CDN (install Node.js, then make assets)"; \
	fi

# PORT=8001 make demo (or make demo PORT=8001) serves elsewhere.
PORT ?= 8000

demo: $(STAMP)
	@$(MAKE) --no-print-directory assets || echo "GraphiQL assets could not be installed: it will load them from a CDN"
	$(BIN)/coursegraph db upgrade
	$(BIN)/coursegraph seed
	@echo ""
	@echo "  coursegraph is serving GraphQL + GraphiQL at http://127.0.0.1:$(PORT)/graphql"
	@echo "  Try:  { courses { nodes { courseNumber name } } }"
	@echo "  Try:  { course(courseNumber: \"BIO-101-F26\") { groups { nodes { name memberIds } } } }"
	@echo ""
	$(BIN)/coursegraph serve --port $(PORT)

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
