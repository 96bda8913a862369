# Two commands on a fresh machine: `make run` (set up, then run the service) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYWB_VENV := .venv-pywb
DEMO_ARCHIVE ?= /tmp/newsarchive-demo

.PHONY: install pywb run demo test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# pywb pins old dependencies (redis 2.10, ...): it gets a virtual environment of its own.
$(PYWB_VENV)/.installed:
	$(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/pip install --quiet --upgrade pip
	$(PYWB_VENV)/bin/pip install --quiet pywb==2.10.0
	touch $@

pywb: $(PYWB_VENV)/.installed

## One crawl of every outlet into archive/ (the scheduler takes over in a later release).
run: install
	$(BIN)/scrapy crawlall

## Crawl the local outlet web (no network needed) and show what was archived.
demo: install
	$(BIN)/python -m tests.localweb.demo --archive $(DEMO_ARCHIVE)

test: install pywb
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/crawl_throughput.py

clean:
	rm -rf $(VENV) $(PYWB_VENV) .pytest_cache
