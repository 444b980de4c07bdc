# Two commands matter: `make demo` and `make test`. Each does all of its own set-up.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SYSTEM_PACKAGES := chromium xvfb openbox xdotool fonts-dejavu-core
# The desktop connector: D-Bus, AT-SPI, GLib's Python bindings, Tesseract; zenity for its tests.
SYSTEM_PACKAGES += dbus at-spi2-core python3-gi gir1.2-glib-2.0 tesseract-ocr tesseract-ocr-deu zenity
STAMP := $(VENV)/.installed

# The tests also need PostgreSQL's binaries: they start throw-away servers.
test: SYSTEM_PACKAGES += postgresql

.PHONY: demo test lint typecheck suite unit bench system venv clean

# Installs Debian packages that are missing (needs root, as on the servers and in CI).
system:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# GLib's Python bindings come from Debian (PyPI's PyGObject needs a newer GLib): the venv
# sees Debian's `gi` package, nothing else of Debian's.
GI_LINK := $(VENV)/.gi-linked
$(GI_LINK): $(STAMP)
	@if [ -d /usr/lib/python3/dist-packages/gi ]; then \
	  ln -sfn /usr/lib/python3/dist-packages/gi "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/gi"; \
	  touch $(GI_LINK); \
	else echo "python3-gi not installed: the desktop connector will not work (make system)"; fi

venv: $(STAMP) $(GI_LINK)

demo: system venv
	$(BIN)/bots demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy

# The whole suite (browser, PostgreSQL, robot processes, chaos tests): what CI runs.
suite: system venv
	$(BIN)/pytest -q

# A quick lane for the edit loop: everything but the tests marked slow.
unit: system venv
	$(BIN)/pytest -q -m "not slow"

test: system venv lint typecheck suite

bench: system venv
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) data build *.egg-info
