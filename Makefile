# The two commands: `make demo` runs OCSC, `make test` checks it. Both set up .venv first.
VENV := .venv
BIN := $(VENV)/bin
# The Python 3.13 that makes .venv (docs/deploy.md, "The interpreter"): PYTHON=/path/to/python3.13
PYTHON ?= python
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := ocsc.settings
# Local runs (demo, tests, mypy's Django plugin) are development: production sets SECRET_KEY.
export DEBUG ?= 1

.PHONY: demo test install serve lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 13), sys.version' \
		|| (echo "OCSC needs Python 3.13 (see .python-version)"; rm -rf $(VENV); exit 1)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $@

install: $(VENV)/.installed

# The embedded profile: SQLite under var/, the demo catalog and accounts, the app and its worker.
demo: install
	mkdir -p var
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py setup_demo
	$(MAKE) --no-print-directory serve

serve:
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/python manage.py run_worker & \
	$(BIN)/python manage.py run_timers & \
	$(BIN)/uvicorn ocsc.asgi:application --host $(HOST) --port $(PORT) --no-access-log & \
	wait

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict ocsc/

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Benchmark data (bench/README.md): `make bench-data APPLICATIONS=1000000 ARGS=--truncate`
# fills the database DATABASES points at (var/ by default, or DATABASE_URL).
.PHONY: bench-data
bench-data: install
	mkdir -p var
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python -m bench.generate --applications $(or $(APPLICATIONS),100000) $(ARGS)

# The production profile on this machine (docs/deploy.md): nginx on 127.0.0.1:8080 (PORT) in
# front of APP_SERVERS (2) uvicorn servers of APP_PROCESSES (1) processes each, WORKERS (1) task
# workers and the timers, on DATABASE_URL (default postgres://postgres@127.0.0.1:5432/ocsc).
# DEBUG is off, as in production. Ctrl-C stops it all.
.PHONY: cluster
cluster: install
	DEBUG=0 $(BIN)/python deploy/cluster.py
