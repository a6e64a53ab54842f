# `make dev` and `make test` work on a fresh machine: the virtualenv is created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test browser lint typecheck bench bench-hotpaths clean

$(STAMP): pyproject.toml client/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" -e client
	@touch $(STAMP)

dev: $(STAMP)
	$(BIN)/atelier dev

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The Studio's tests drive Debian's Chromium through its chromedriver (tests/studio).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy shared workers api cli
	$(BIN)/mypy -p atelier.client

bench: $(STAMP)
	$(BIN)/python -m bench.modes
	$(BIN)/python -m bench.hotpaths
	$(BIN)/python -m bench.capacity
	$(BIN)/python -m bench.chat

# Some rows only, e.g. make bench-hotpaths ONLY="P3 P4 P5 P6"
bench-hotpaths: $(STAMP)
	$(BIN)/python -m bench.hotpaths $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
