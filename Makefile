# Two commands for a fresh machine (see README.md):
#   make run    install everything into .venv and run Dasan on the bundled sample corpus
#   make test   install everything into .venv and run the whole test suite
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed

.PHONY: run test install lint bench e2e-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --upgrade pip >/dev/null
	$(VENV)/bin/pip install -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/dasan serve

lint: $(STAMP)
	$(VENV)/bin/ruff check dasan tests scripts

# Browser end-to-end test (tests/test_e2e_browser.py): Debian's Chromium (never a browser that a
# tool downloads itself), a Korean font for readable screenshots, and playwright-core from npm.
CHROMIUM   ?= /usr/bin/chromium
E2E_STAMP  := tests/e2e/node_modules/.installed

$(E2E_STAMP): tests/e2e/package.json tests/e2e/package-lock.json
	cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $@

e2e-deps: $(E2E_STAMP)
	@if [ ! -x $(CHROMIUM) ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-nanum; \
	fi

test: $(STAMP) lint e2e-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider
