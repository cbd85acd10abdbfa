# The two set-up commands of the README: `make demo` and `make test`.
# Each creates or refreshes .venv from pyproject.toml pinned by constraints.txt.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck pytest system-packages chromium fonts nginx container-tools editor lock clean

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

# The container-image test (tests/test_container_image.py) builds the Dockerfile with Debian's
# podman (runc as its runtime) FROM a bookworm that debootstrap makes: no registry of base images.
container-tools:
	@command -v podman >/dev/null 2>&1 && command -v debootstrap >/dev/null 2>&1 \
	  && { command -v runc >/dev/null 2>&1 || test -x /usr/sbin/runc; } || { \
	  echo "Installing Debian's podman, debootstrap and runc for the container-image test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman debootstrap runc >/dev/null; }

# PDFs that print Chinese names embed a TrueType CJK font, and reports mixing Chinese with
# Latin text a Latin one too (liaison.pdf_fonts); the dashboard's PNG charts draw their text
# in the CJK font through cairo (cairosvg).
fonts:
	@test -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf || { \
	  echo "Installing Debian's fonts-droid-fallback for Chinese text in PDFs and charts"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-droid-fallback >/dev/null; }
	@ldconfig -p | grep -q 'libcairo.so.2 ' || { \
	  echo "Installing Debian's libcairo2 for the PNG charts (cairosvg)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcairo2 >/dev/null; }
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || { \
	  echo "Installing Debian's fonts-dejavu-core for Latin text in PDFs"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null; }

# The substance page's structure editor (Ketcher, frontend/) built into the static files.
# npm ci runs only when the lock changes, the build only when its inputs do; the output is
# not committed. Without it the page offers the text box alone and says so.
FRONTEND := frontend
NODE_MODULES := $(FRONTEND)/node_modules/.package-lock.json
EDITOR := src/liaison/web/ui/static/editor/editor.js

$(NODE_MODULES): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "The structure editor is built with Node.js (>= 20.19) and npm: install them first"; exit 1; }
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(EDITOR): $(NODE_MODULES) $(FRONTEND)/vite.config.js $(FRONTEND)/src/editor.js
	cd $(FRONTEND) && npm run --silent build -- --logLevel warn

editor: $(EDITOR)

demo: $(STAMP) fonts editor
	$(BIN)/liaison demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# One after the other: dpkg serves one apt-get at a time, and `make test` runs with -j2.
system-packages:
	@$(MAKE) --no-print-directory -j1 chromium fonts nginx container-tools

# Three workers on two cores: much of the suite waits on nodes, browsers and subprocesses
# (about 63% of two cores used with two workers). Tests sharing a costly fixture are grouped
# into one worker (tests/conftest.py), so a third worker does not build it a third time.
pytest: $(STAMP) system-packages editor
	$(BIN)/pytest -n 3 --dist loadgroup

# mypy runs beside pytest: the suite waits on nodes and browsers much of the time.
test: lint
	@$(MAKE) --no-print-directory -j2 typecheck pytest

# Re-pin after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^liaison' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(FRONTEND)/node_modules $(dir $(EDITOR))
