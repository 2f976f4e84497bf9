# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATABASE_URL ?= sqlite:///var/guidecat.db
HOST ?= 127.0.0.1
PORT ?= 8000
export DATABASE_URL

.PHONY: install run test test-fast lint bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/guidecat db upgrade
	$(BIN)/guidecat demo load --if-empty --print-logins
	$(BIN)/guidecat serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check app tests migrations/env.py $(wildcard bench)
	$(BIN)/ruff format --check app tests migrations/env.py $(wildcard bench)
	$(BIN)/mypy

# Two or more workers (one per core), each test file on one of them: module fixtures are built once.
# Branch coverage of app/ is measured and printed at the end (the figure is in the last line).
test: lint
	$(BIN)/pytest -n auto --dist loadfile --cov --cov-report=term

# The pure tier and the house rules: no database, no server, seconds.
test-fast: install
	$(BIN)/pytest -q tests/unit tests/architecture

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var/*.db var/*.db-wal var/*.db-shm .pytest_cache .mypy_cache .ruff_cache .coverage*
