# tunnelhunt: every set-up step lives here so a fresh clone needs nothing else.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BASE   := $(VENV)/.installed-base
DEMO   ?= build/demo

.PHONY: install install-base java browser demo test lint fuzz clean bench bench-quick

# The program alone (what `make demo` needs): no dev tools, no Spark, no Java.
install-base: $(BASE)

# Everything `make test`, `lint`, `fuzz` and `bench` need: the dev extras, Spark and its Java runtime.
install: java browser $(STAMP)

# Spark (--engine spark, and the test comparing it with DuckDB) needs a Java 17+ runtime:
# install Debian's when none is on the PATH.
java:
	@if ! command -v java >/dev/null 2>&1; then \
		echo "installing a Java 17 runtime for Spark"; \
		SUDO=$$(command -v sudo >/dev/null 2>&1 && [ "$$(id -u)" != 0 ] && echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openjdk-17-jre-headless; \
	fi

# The browser tests (tests/browser) drive Debian's headless Chromium through its chromedriver:
# install both when missing (selenium is given their paths, so it downloads nothing).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		echo "installing Chromium and its driver for the browser tests"; \
		SUDO=$$(command -v sudo >/dev/null 2>&1 && [ "$$(id -u)" != 0 ] && echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi

$(BASE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(BASE)

$(STAMP): $(BASE)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install-base
	rm -rf $(DEMO)
	$(BIN)/tunnelhunt generate $(DEMO) --events 20000 --seed 7
	$(BIN)/tunnelhunt hunt $(DEMO)/windows-sysmon.log $(DEMO)/windows-security.log $(DEMO)/linux-sysmon.log \
		$(DEMO)/macos-endpoint.ndjson \
		--risk $(DEMO)/risk.jsonl --db $(DEMO)/demo.duckdb --html $(DEMO)/report.html
	@echo
	@echo "The HTML report of this hunt: $(abspath $(DEMO))/report.html"
	@echo "The program is $(BIN)/tunnelhunt (or: source $(BIN)/activate, then tunnelhunt). Try:"
	@echo "  $(BIN)/tunnelhunt findings --db $(DEMO)/demo.duckdb"
	@echo "  $(BIN)/tunnelhunt risk --db $(DEMO)/demo.duckdb"
	@echo "  $(BIN)/tunnelhunt serve --db $(DEMO)/demo.duckdb   (incident review on http://127.0.0.1:8465/)"
	@echo "  $(BIN)/tunnelhunt hunt $(DEMO)/windows-sysmon.log --timeline --min-score 60"
	@echo "  $(BIN)/tunnelhunt --help"

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# Hostile input: 5,000 mutated inputs through every reader and the format detector, with counts of
# uncaught exceptions, hangs, memory over 2 GB and accounting mismatches (each kept in tests/fixtures/fuzz).
FUZZ_INPUTS ?= 5000
fuzz: install
	nice -n 10 $(BIN)/python -m tests.fuzz.campaign --inputs $(FUZZ_INPUTS)

# Throughput, memory and stored-query figures into bench/results.json (minutes; not a test).
bench: install
	$(BIN)/python -m bench --out bench/results.json $(if $(ZIRCOLITE),--zircolite $(ZIRCOLITE))

# The same on small inputs, under a minute.
bench-quick: install
	$(BIN)/python -m bench --quick --out bench/results-quick.json $(if $(ZIRCOLITE),--zircolite $(ZIRCOLITE))

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
