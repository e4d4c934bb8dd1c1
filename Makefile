# torchgrader: every target installs what it needs first (a fresh machine needs only Python 3.11).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# seeds each mutant and the solution are graded under in `make verify`
VERIFY_SEEDS ?= 20

.PHONY: setup system-deps demo test test-fast verify bench bench-serve dist clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[test,ray,serve]'
	touch $(STAMP)

# System packages: bubblewrap (the default sandbox), podman + runc (the container backend),
# chromium + its driver (the report browser tests), postgresql (grader serve's tests start a
# throwaway cluster with its initdb, found under /usr/lib/postgresql/*/bin).
# Installed with apt when running as root and missing; otherwise say what is missing.
SYSTEM_PACKAGES := bwrap:bubblewrap podman:podman runc:runc chromium:chromium chromedriver:chromium-driver
INITDB = $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))
system-deps:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	[ -n "$(INITDB)" ] || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing:$$missing"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing system packages:$$missing (install them with your package manager)"; fi; \
	fi

demo: setup system-deps
	$(VENV)/bin/grader grade tests/data/demo_class -a custom_model -o out/demo \
		--submitted-at tests/data/demo_class/submitted_at.csv

test: setup system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# The tests that start no sandbox, kernel or browser: the engine's logic, in seconds.
test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# The course itself: releases match solutions/, solutions earn full marks, blanks zero, mutants lose.
verify: setup system-deps
	$(VENV)/bin/grader assign --all --check
	$(VENV)/bin/grader verify --seeds $(VERIFY_SEEDS)

# Throughput against otter run on the same notebooks; writes out/bench/bench.json.
bench: setup system-deps
	$(PY) -m grader.bench

# grader serve under load from a loopback client (SQLite, then a throwaway PostgreSQL cluster),
# with kill -9 of the server and of a worker slot; writes out/bench-serve/bench-serve.json.
bench-serve: setup system-deps
	$(PY) -m grader.serve.bench

# What students install: a wheel and an sdist of the grader package alone (no solutions/, tests/
# or hidden suites; MANIFEST.in keeps the sdist to it), built with the venv's setuptools.
DIST ?= dist
dist: setup
	rm -rf build $(DIST)
	$(PIP) wheel --quiet --no-deps --no-build-isolation --wheel-dir $(DIST) .
	$(PY) -c "import sys; from setuptools import build_meta; build_meta.build_sdist(sys.argv[1])" $(DIST) >/dev/null
	rm -rf build
	@ls $(DIST)

clean:
	rm -rf out .pytest_cache build dist
