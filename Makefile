# torchgrader: every target installs what it needs first (a fresh machine needs only Python 3.11).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup system-deps demo test clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e .
	touch $(STAMP)

# bubblewrap is the default sandbox; installed when running as root and it is missing.
system-deps:
	@if ! command -v bwrap >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing bubblewrap"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	  else echo "bubblewrap (bwrap) is not installed: install it, or grade with --sandbox none"; fi; \
	fi

demo: setup system-deps
	$(VENV)/bin/grader grade tests/data/demo_class -a custom_model -o out/demo

test: setup system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf out .pytest_cache
