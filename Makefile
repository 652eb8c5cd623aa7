# Two entry points for a fresh machine: `make demo` (set up + main job), `make test` (set up + tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT := results
# The dolfinx venv: the system Python (Debian's python3-dolfinx, installed beforehand) plus pip.
SYSTEM_PYTHON ?= /usr/bin/python3
DOLFINX_VENV := .venv-dolfinx
DOLFINX_STAMP := $(DOLFINX_VENV)/.installed-stamp

.PHONY: setup demo test lint clean test-dolfinx

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p $(OUT)
	$(BIN)/decide fisheries study --sigma-g 0.15 --sigma-m 0 0.1 0.15 --replicates 1000 --seed 1 \
		--time-limit 20 --out $(OUT)/study.nc --plot $(OUT)/study.png

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache

$(DOLFINX_STAMP): pyproject.toml .ci/dolfinx-constraints.txt
	$(SYSTEM_PYTHON) -m venv --system-site-packages $(DOLFINX_VENV)
	$(DOLFINX_VENV)/bin/pip install --quiet -c .ci/dolfinx-constraints.txt -e '.[test]'
	touch $(DOLFINX_STAMP)

# Backend parity tests against dolfinx; they fail (not skip) here if dolfinx cannot be imported.
test-dolfinx: $(DOLFINX_STAMP)
	DECIDE_REQUIRE_DOLFINX=1 $(DOLFINX_VENV)/bin/pytest -q tests/envs/pde -m dolfinx
