# Two commands on a fresh machine: `make run` (set up, then run the service) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYWB_VENV := .venv-pywb
REPLAYWEBPAGE := .replaywebpage
REPLAYWEBPAGE_VERSION := 2.5.3
DEMO_ARCHIVE ?= /tmp/newsarchive-demo

.PHONY: install pywb replaywebpage chromium redis postgres wget lint run serve demo fixtures browse test reliability bench evaluate evaluate-stories clean

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

## ReplayWeb.page (the npm package: its prebuilt ui.js and sw.js) in .replaywebpage/, for viewing a WACZ package
## (python -m crawler.viewer FILE.wacz) and for its test; downloaded once (`npm pack`, no install: no dependencies).
$(REPLAYWEBPAGE)/.installed-$(REPLAYWEBPAGE_VERSION):
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	rm -rf $(REPLAYWEBPAGE) && mkdir -p $(REPLAYWEBPAGE)
	cd $(REPLAYWEBPAGE) && npm pack --silent replaywebpage@$(REPLAYWEBPAGE_VERSION) >/dev/null
	tar -xzf $(REPLAYWEBPAGE)/replaywebpage-$(REPLAYWEBPAGE_VERSION).tgz -C $(REPLAYWEBPAGE) --strip-components=1
	rm $(REPLAYWEBPAGE)/replaywebpage-$(REPLAYWEBPAGE_VERSION).tgz
	test -s $(REPLAYWEBPAGE)/ui.js && test -s $(REPLAYWEBPAGE)/sw.js
	touch $@

replaywebpage: $(REPLAYWEBPAGE)/.installed-$(REPLAYWEBPAGE_VERSION)

# Headless Chromium for the browsing test (Debian's package; needs root, as in CI).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Redis (the shared frontier) and PostgreSQL (the catalog when DATABASE_URL says so), Debian's packages,
# installed only if missing (needs root, as in CI). Tests start their own servers from them.
redis:
	@command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }

postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

# GNU Wget, another crawler whose WARCs replay must read (the replay tests write one with it).
wget:
	@command -v wget >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wget; }

## The package layering (pyproject.toml, [tool.importlinter]) and the lint rules ([tool.ruff]).
lint: install
	$(BIN)/lint-imports
	$(BIN)/ruff check .

## The scheduling service: every outlet on its schedule, into archive/ (Ctrl-C stops it cleanly), with the reading
## room beside it (scrapy serve on READER_HOST:READER_PORT, 127.0.0.1:8000), stopped when the scheduler stops.
run: install
	@$(BIN)/scrapy serve & reader=$$!; \
	trap 'kill $$reader 2>/dev/null; wait $$reader 2>/dev/null' EXIT INT TERM; \
	echo "The reading room: http://127.0.0.1:8000/ (scrapy serve, pid $$reader; its own messages follow)"; \
	$(BIN)/scrapy schedule

## The reading room alone: search, articles and their versions, changes, outlets, runs on http://127.0.0.1:8000/
serve: install
	$(BIN)/scrapy serve

## Crawl the local outlet web (no network needed) and show what was archived.
demo: install
	$(BIN)/python -m tests.localweb.demo --archive $(DEMO_ARCHIVE)

## Record each outlet's fixture site files (fixtures/<outlet>/web/) as the WARC `scrapy checkoutlet` replays,
## with the outlet's own crawl of the local outlet web; OUTLETS="ndtv bbc" for some, FORCE=1 to re-record unchanged ones.
fixtures: install
	$(BIN)/python -m tests.localweb.record $(if $(FORCE),--force) $(OUTLETS)

## The archive in pywb on http://127.0.0.1:8080/ (one collection per outlet).
browse: install pywb
	$(BIN)/python -m crawler.browse

test: install pywb replaywebpage chromium redis postgres wget lint
	$(BIN)/python -m pytest

## Fault injection and SIGKILL trials with the full budget: prints what the service did with each fault.
reliability: install
	$(BIN)/python -m tests.reliability --trials 25

bench: install
	$(BIN)/python bench/crawl_throughput.py
	$(BIN)/python bench/extraction_speed.py
	$(BIN)/python bench/replay_speed.py
	$(BIN)/python bench/no_news_run.py
	$(BIN)/python bench/scale_out.py
	$(BIN)/python bench/search_speed.py
	$(BIN)/python bench/stories_speed.py
	$(BIN)/python bench/wacz_speed.py

## Extraction accuracy on the shared corpora (../shared/corpora), next to trafilatura's default run:
## a table on stdout, the full result in archive/evaluation.json (python -m evaluation --help).
evaluate: install
	$(BIN)/python -m evaluation

## Story assignment (copy groups, stories, attribution) on the labelled set built from the seed fixtures and the
## shared corpora: a table per kind of transformation on stdout, the full result in archive/stories-evaluation.json;
## fails when a target of the issue is missed (python -m evaluation.stories --help).
evaluate-stories: install
	$(BIN)/python -m evaluation.stories

clean:
	rm -rf $(VENV) $(PYWB_VENV) $(REPLAYWEBPAGE) .pytest_cache
