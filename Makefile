# `make demo` and `make test` bootstrap .venv themselves; nothing is to be installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PREFECT_HOST ?= 127.0.0.1
PREFECT_PORT ?= 4200
# The server's API, from the port: the UI is told this address (Prefect's default is :4200 whatever --port says),
# and the worker and `prefect deploy` talk to it.
PREFECT_SERVER_URL ?= http://$(PREFECT_HOST):$(PREFECT_PORT)/api
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
	PREFECT_API_URL=$(PREFECT_SERVER_URL) PREFECT_UI_API_URL=$(PREFECT_SERVER_URL) \
	  $(BIN)/prefect server start --host $(PREFECT_HOST) --port $(PREFECT_PORT)

worker: $(STAMP)
	PREFECT_API_URL=$(PREFECT_SERVER_URL) $(BIN)/python -m deployments.work_pool
	PREFECT_API_URL=$(PREFECT_SERVER_URL) $(BIN)/prefect worker start --pool ascflow-process

deploy: $(STAMP)
	PREFECT_API_URL=$(PREFECT_SERVER_URL) $(BIN)/python -m deployments.work_pool
	PREFECT_API_URL=$(PREFECT_SERVER_URL) $(BIN)/prefect --no-prompt deploy --all

benchmarks: $(STAMP)
	for b in benchmarks/[a-z]*.py; do $(BIN)/python -m benchmarks.$$(basename $$b .py) || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
