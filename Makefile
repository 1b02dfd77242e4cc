# Two commands for a fresh machine with Python 3.11, git and the package registries:
#   make demo   install into .venv/ and start the demo
#   make test   install the dev tools into the same .venv/ and run lint, format check and tests
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint format bench lock clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes -r requirements.lock
	$(PIP) install --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock $(VENV)/.installed
	$(PIP) install --require-hashes -r requirements-dev.lock
	touch $@

demo: $(VENV)/.installed
	$(BIN)/sextant demo

test: $(VENV)/.installed-dev
	$(BIN)/ruff check sextant tests bench
	$(BIN)/ruff format --check sextant tests bench
	$(BIN)/pytest

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix sextant tests bench
	$(BIN)/ruff format sextant tests bench

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

# Re-pin the lock files after editing the dependencies in pyproject.toml.
lock: $(BIN)/python
	$(PIP) install uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements-dev.lock

clean:
	rm -rf $(VENV) sextant-data .pytest_cache .ruff_cache
