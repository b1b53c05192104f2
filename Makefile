# `make demo` and `make test` bootstrap .venv themselves; nothing is to be installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PREFECT_PORT ?= 4200
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: demo test lint typecheck pytest server worker deploy benchmarks clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,aws]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ascflow demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

server: $(STAMP)
	$(BIN)/prefect server start --port $(PREFECT_PORT)

worker: $(STAMP)
	$(BIN)/python -m deployments.work_pool
	$(BIN)/prefect worker start --pool ascflow-process

deploy: $(STAMP)
	$(BIN)/python -m deployments.work_pool
	$(BIN)/prefect --no-prompt deploy --all

benchmarks: $(STAMP)
	for b in benchmarks/[a-z]*.py; do $(BIN)/python -m benchmarks.$$(basename $$b .py) || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
