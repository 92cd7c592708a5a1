# Two commands for a fresh machine (see README.md):
#   make run    install everything into .venv and run Dasan on the bundled sample corpus
#   make test   install everything into .venv and run the whole test suite
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed

.PHONY: run test install lint bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --upgrade pip >/dev/null
	$(VENV)/bin/pip install -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/dasan quickstart

lint: $(STAMP)
	$(VENV)/bin/ruff check dasan tests scripts

test: $(STAMP) lint
	$(VENV)/bin/pytest -q -p no:cacheprovider
