# Switchyard: `make demo` runs the product on embedded defaults; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# pytest-xdist workers for the suite; each has its own PostgreSQL database, chDB directory and Redis
# key prefix (config/settings/test.py). TEST_WORKERS=0 runs it in this one process. Tests are handed
# out one at a time, in collection order, so each worker keeps pytest-django's order.
TEST_WORKERS ?= 2
PYTEST_XDIST := -n $(TEST_WORKERS) --dist load --maxschedchunk 1

.PHONY: demo test install tools lint typecheck pytest bench audit clean

$(STAMP): pyproject.toml sdk/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,encoder]" -e "./sdk[encoder]"
	$(PY) manage.py build_sdk
	$(PY) manage.py export_encoder
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) manage.py build_sdk
	$(PY) manage.py migrate --noinput
	$(PY) manage.py migrate_clickhouse
	$(PY) manage.py demo_setup
	$(PY) manage.py demo_traffic
	$(PY) manage.py demo_replay
	$(PY) manage.py demo_recommend
	$(PY) manage.py demo_spend
	$(PY) manage.py demo_opportunities
	$(PY) manage.py serve --bind 127.0.0.1:8000 --demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check apps config tools

typecheck: $(STAMP)
	$(VENV)/bin/mypy apps config
	cd sdk && ../$(VENV)/bin/mypy --strict

# System tools some tests drive (chromium, kustomize, Docker Compose v2); installs only what is missing.
tools:
	@bash tools/install-test-tools.sh || echo "make: could not install every system tool the tests drive (see above)"

pytest: $(STAMP) tools
	$(PY) tools/preflight.py
	$(PY) -m pytest -q $(PYTEST_XDIST)

test: $(STAMP) tools
	$(PY) tools/preflight.py
	$(MAKE) --no-print-directory lint typecheck
	$(PY) -m pytest -q $(PYTEST_XDIST)

# Known vulnerabilities in the installed dependencies (needs PyPI's vulnerability API; see deploy/SECURITY.md).
audit: $(STAMP)
	$(VENV)/bin/pip-audit --strict --skip-editable --progress-spinner off

bench: $(STAMP)
	$(PY) bench/ingest.py

clean:
	rm -rf var/ch-test var/test-output
