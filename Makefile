# The two commands a fresh machine needs: `make run` (the product, embedded mode) and `make test`.
# Both create .venv and install the project from pyproject.toml first; the install is redone only
# when pyproject.toml is newer than the stamp under .venv, so a second run starts at once.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The embedded default; the test targets name their own settings (pytest --ds).
LOCAL := DJANGO_SETTINGS_MODULE=config.settings.local

.DEFAULT_GOAL := help
.PHONY: help install run test fuzz lint migrations-check schema-check messages bench clean

help:
	@echo "make run               migrate, load the demo, start web + Celery worker + beat (SQLite)"
	@echo "make test              the whole test suite (pytest -n auto)"
	@echo "make fuzz              only the schemathesis run; FUZZ_EXAMPLES=100 for a deeper one"
	@echo "make lint              ruff check . and ruff format --check ."
	@echo "make migrations-check  fail if the models need a migration"
	@echo "make schema-check      validate the OpenAPI schema, warnings are errors"
	@echo "make messages          update and compile the zh_Hans and en translations"
	@echo "make bench             seed the benchmark organization on PostgreSQL and run bench/run.py"
	@echo "make install           only create .venv and install the project"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[dev]'
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(LOCAL) $(PY) manage.py migrate --noinput
	$(LOCAL) $(PY) manage.py demo_load
	$(LOCAL) exec $(PY) -m config.run_embedded

test: $(STAMP)
	$(PY) -m pytest -n auto --ds=config.settings.test

# The schemathesis run alone (it is part of `make test` too); FUZZ_EXAMPLES sets its depth.
fuzz: $(STAMP)
	$(PY) -m pytest -n auto --ds=config.settings.test -m fuzz

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

migrations-check: $(STAMP)
	$(LOCAL) $(PY) manage.py makemigrations --check --dry-run

schema-check: $(STAMP)
	$(LOCAL) $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

# Needs GNU gettext (xgettext, msgfmt). The compiled .mo files are committed.
MESSAGE_IGNORES := --ignore=.venv --ignore=var --ignore=staticfiles --ignore=bench \
	--ignore=tests --ignore=.git
messages: $(STAMP)
	$(LOCAL) $(PY) manage.py makemessages -l zh_Hans -l en $(MESSAGE_IGNORES)
	$(LOCAL) $(PY) manage.py compilemessages $(MESSAGE_IGNORES)

# The benchmarks of issue 7 (bench/README.md). PostgreSQL is the target: the database is created
# when missing; the organization is seeded once per size (BENCH_AGENTS x BENCH_DAYS, BENCH_SEED).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/agentteams_bench
BENCH_AGENTS ?= 2000
BENCH_DAYS ?= 30
BENCH_SEED ?= 1
BENCH_ARGS ?=
BENCH_ENV := DJANGO_SETTINGS_MODULE=config.settings.local DJANGO_DEBUG=false \
	DATABASE_URL=$(BENCH_DATABASE_URL)
bench: $(STAMP)
	$(BENCH_ENV) $(PY) -m bench.createdb
	$(BENCH_ENV) $(PY) manage.py migrate --noinput -v 0
	$(BENCH_ENV) $(PY) manage.py bench_seed --if-needed --agents $(BENCH_AGENTS) \
		--days $(BENCH_DAYS) --seed $(BENCH_SEED)
	$(BENCH_ENV) $(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
