# Two commands for a fresh machine (see README.md):
#   make run    install everything into .venv and run Dasan on the bundled sample corpus
#   make test   install everything into .venv and run the whole test suite
# Both install exactly the versions in the lock files (requirements-build.txt, then
# requirements.txt), checked against their hashes. `make lock` re-resolves them;
# `make test-latest` runs the suite on the newest versions pyproject.toml allows.
SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed
LOCK       := requirements.txt
BUILD_LOCK := requirements-build.txt
# Exactly what a lock lists (hash-checked, nothing resolved on the way); source-only packages
# (llama-cpp-python, kiwipiepy-model) build with the locked backends installed just before.
PIP_LOCKED := --require-hashes --no-deps --no-build-isolation
# llama.cpp is compiled for x86-64 with AVX2/FMA/F16C rather than for "this CPU" (-march=native):
# a native build on a virtual machine that advertises AVX-512/AMX died with SIGILL on the first
# decode, and a native wheel left in pip's cache would not run on the next machine either.
# Set CMAKE_ARGS yourself to build otherwise (e.g. -DGGML_NATIVE=ON on a known server).
CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
export CMAKE_ARGS

.PHONY: run test install lint bench e2e-deps lock test-latest train-deps

$(STAMP): pyproject.toml $(LOCK) $(BUILD_LOCK)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --require-hashes --no-deps -r $(BUILD_LOCK)
	$(VENV)/bin/pip install $(PIP_LOCKED) -r $(LOCK)
	$(VENV)/bin/pip install --no-deps --no-build-isolation -e .
	$(VENV)/bin/pip check
	$(VENV)/bin/python scripts/check_llama.py || { \
		echo "llama-cpp-python: the cached build does not run on this CPU; rebuilding it from source"; \
		$(VENV)/bin/pip cache remove llama_cpp_python; \
		$(VENV)/bin/pip install $(PIP_LOCKED) --force-reinstall -r $(LOCK) && \
		$(VENV)/bin/python scripts/check_llama.py; }
	touch $(STAMP)

install: $(STAMP)

# The training extra (`dasan train llm`: CPU torch, transformers, peft, gguf; hash-locked in
# requirements-train.txt, compiled against requirements.txt) on top of the main lock. `make test`
# installs it so the suite runs the training path; `make run` and `make install` stay without it.
TRAIN_LOCK  := requirements-train.txt
TRAIN_STAMP := $(VENV)/.installed-train

$(TRAIN_STAMP): $(STAMP) $(TRAIN_LOCK)
	$(VENV)/bin/pip install $(PIP_LOCKED) -r $(TRAIN_LOCK)
	$(VENV)/bin/pip check
	touch $@

train-deps: $(TRAIN_STAMP)

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

test: $(STAMP) train-deps lint e2e-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider

# Re-resolve both lock files to the newest versions pyproject.toml and requirements-build.in
# allow (pip-tools in its own venv; the lock records the command). Run it when a dependency
# range changes, to take a release, or after `make test-latest` passes; commit both files.
LOCK_VENV := .venv-lock
PIP_COMPILE := $(LOCK_VENV)/bin/pip-compile --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --upgrade --quiet
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --upgrade pip pip-tools
	$(PIP_COMPILE) -o $(BUILD_LOCK) requirements-build.in
	$(PIP_COMPILE) --extra dev -c $(BUILD_LOCK) -o $(LOCK) pyproject.toml
	$(PIP_COMPILE) --extra train -c $(LOCK) -c $(BUILD_LOCK) -o $(TRAIN_LOCK) pyproject.toml

# Drift check (run it on a schedule, e.g. weekly): the newest versions pyproject.toml allows,
# resolved now, in a separate venv; prints what differs from the lock, then runs lint and the
# whole suite. Exit status non-zero when anything fails: fix Dasan (or narrow a range) before
# `make lock` takes the new releases. The report is kept in test-artifacts/test-latest.txt.
# PYTEST_ARGS narrows the run (e.g. PYTEST_ARGS=tests/test_xml_guard.py) for a quick look.
LATEST_VENV := .venv-latest
test-latest: e2e-deps
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/pip install --quiet --upgrade pip
	$(LATEST_VENV)/bin/pip install --upgrade --upgrade-strategy eager -e '.[dev,train]'  # train: torch==2.13.0 takes the local CPU wheel
	$(LATEST_VENV)/bin/python scripts/check_llama.py
	mkdir -p test-artifacts
	$(LATEST_VENV)/bin/python scripts/lock_drift.py --lock $(LOCK) --python $(LATEST_VENV)/bin/python \
		| tee test-artifacts/test-latest.txt
	set -o pipefail; { $(LATEST_VENV)/bin/ruff check dasan tests scripts && \
		$(LATEST_VENV)/bin/pytest -q -p no:cacheprovider $(PYTEST_ARGS); } 2>&1 | tee -a test-artifacts/test-latest.txt
