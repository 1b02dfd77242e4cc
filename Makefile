# Two commands for a fresh machine with Python 3.11, git and the package registries:
#   make demo   install into .venv/ and start the demo
#   make test   install the dev tools into the same .venv/ and run lint, format check and tests
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test browser lint format bench lock clean

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

test: $(VENV)/.installed-dev browser
	$(BIN)/ruff check sextant tests bench
	$(BIN)/ruff format --check sextant tests bench
	$(BIN)/pytest -m "not serial"
	$(BIN)/pytest -m serial -n 0

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix sextant tests bench
	$(BIN)/ruff format sextant tests bench

# The browser tests drive Debian's Chromium (Playwright uses it; it downloads no browser of its
# own). Installed with apt when missing and possible (root); otherwise those tests are skipped
# with a message saying so.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests (apt-get)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	      >/dev/null) || echo "note: could not install chromium; browser tests will be skipped"; \
	  else echo "note: chromium is not installed (needs root and apt); browser tests will be skipped"; fi; }

bench: $(VENV)/.installed-dev browser
	$(BIN)/python -m bench

# Re-pin the lock files after editing the dependencies in pyproject.toml.
lock: $(BIN)/python
	$(PIP) install uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements-dev.lock

clean:
	rm -rf $(VENV) sextant-data .pytest_cache .ruff_cache
