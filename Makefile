# Two entry points for a fresh machine: `make demo` (set up + main job), `make test` (set up + tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT := results

.PHONY: setup demo test lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p $(OUT)
	$(BIN)/decide bounds rocksample-5-5
	$(BIN)/decide solve rocksample-5-5 --time-limit 20 --out $(OUT)/rocksample-5-5.policy.nc
	$(BIN)/decide simulate rocksample-5-5 $(OUT)/rocksample-5-5.policy.nc \
		--replicates 1000 --steps 150 --seed 1 --out $(OUT)/rocksample-5-5.sim.nc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
