# Two commands do all the set-up: `make run` and `make test` (see README.md).
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export PATH := $(HOME)/.local/bin:$(PATH)
PYTHON_VERSION ?= 3.11
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: env run test bench lint format browser clean-data

$(UV):
	python3 -m pip install --user --quiet uv

env: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python python$(PYTHON_VERSION)
	@touch $@

# Debian's Chromium for the Playwright browser tests (Playwright cannot download browsers here),
# and a CJK font so the zh-hans pages' screenshots show characters, not empty boxes.
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@fc-list :lang=zh | grep -q . || { apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null; }

run: env
	$(PY) scripts/run.py

# pytest-xdist: whole test files per worker (--dist loadfile keeps a module's fixtures on one
# worker); each worker has its own test database (…_gw0, …_gw1) and Redis key prefix.
# TEST_WORKERS=0 runs in this process. See docs/benchmarks.md ("Test suite").
TEST_WORKERS ?= 2

test: env browser
	@$(PY) scripts/check_services.py
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: env
	$(PY) -m bench $(BENCH_ARGS)

lint: env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: env
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Forget the embedded database and the filesystem broker's messages (stop `make run` first).
clean-data:
	@if [ -f .pgdata/postmaster.pid ] && kill -0 "$$(head -1 .pgdata/postmaster.pid)" 2>/dev/null; then \
		echo "The embedded PostgreSQL is running: stop make run first (Ctrl-C)"; exit 1; fi
	rm -rf .pgdata var/broker
