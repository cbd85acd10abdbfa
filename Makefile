# The two set-up commands of the README: `make demo` and `make test`.
# Each creates or refreshes .venv from pyproject.toml pinned by constraints.txt.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck pytest chromium fonts nginx lock clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

# Browser tests drive Debian's Chromium; no browser is ever downloaded by a test tool.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The TLS reverse-proxy test (tests/integration/test_nginx.py) runs Debian's nginx.
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  echo "Installing Debian's nginx for the reverse-proxy test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }

# PDFs that print Chinese names embed a TrueType CJK font (liaison.pdf_fonts).
fonts:
	@test -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf || { \
	  echo "Installing Debian's fonts-droid-fallback for Chinese text in PDFs"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-droid-fallback >/dev/null; }

demo: $(STAMP) fonts
	$(BIN)/liaison demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) chromium fonts nginx
	$(BIN)/pytest -n 2 --dist loadgroup

test: lint typecheck pytest

# Re-pin after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^liaison' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
