# Two commands set everything up on a fresh machine: `make chat` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test lint typecheck unit bench clean system-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/castling chat $(ARGS)

test: $(STAMP) system-deps lint typecheck unit

system-deps:
	@bash .ci/system-deps

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scenarios
	$(BIN)/ruff format --check src tests benchmarks scenarios

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

bench: $(STAMP)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build src/*.egg-info
