# tunnelhunt: every set-up step lives here so a fresh clone needs nothing else.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= build/demo

.PHONY: install demo test lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	rm -rf $(DEMO)
	$(BIN)/tunnelhunt generate $(DEMO) --events 20000 --seed 7
	$(BIN)/tunnelhunt hunt $(DEMO)/windows-sysmon.log $(DEMO)/linux-sysmon.log $(DEMO)/macos-endpoint.ndjson \
		--risk $(DEMO)/risk.jsonl

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
