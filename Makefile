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
# The oldest-versions venv: every runtime dependency at the lower bound pyproject.toml claims.
OLDEST_VENV := .venv-oldest
OLDEST_STAMP := $(OLDEST_VENV)/.installed-stamp
# The linalg, robust and tuning tests exercise the scipy.sparse API that sets scipy's bound;
# test_linalg_solvers.py is left out: its random matrices need scipy>=1.15 (random_array's rng=).
OLDEST_TESTS := tests/pomdp tests/envs/test_fisheries_pomdp.py tests/envs/test_fisheries_env.py \
	tests/test_results.py tests/linalg/test_linalg_csr.py tests/linalg/test_linalg_spectral.py \
	tests/linalg/test_linalg_tuned.py tests/robust tests/test_tuning.py
# One pytest worker per CPU; a test file stays on one worker (its module-level caches with it).
PARALLEL := -n auto --dist loadfile
VERSIONS := import platform, numpy, scipy, numba, xarray; print('python', platform.python_version(), \
	*(f'| {m.__name__} {m.__version__}' for m in (numpy, scipy, numba, xarray)))

.PHONY: setup demo test lint clean test-dolfinx test-oldest versions

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p $(OUT)
	$(BIN)/decide fisheries study --sigma-g 0.15 --sigma-m 0 0.1 0.15 --replicates 1000 --seed 1 \
		--max-iterations 150 --time-limit 3600 --out $(OUT)/study.nc --plot $(OUT)/study.png

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest -q $(PARALLEL)

versions: $(STAMP)
	@$(BIN)/python -c "$(VERSIONS)"

clean:
	rm -rf $(VENV) $(OLDEST_VENV) $(OUT) .pytest_cache .ruff_cache

$(DOLFINX_STAMP): pyproject.toml .ci/dolfinx-constraints.txt
	$(SYSTEM_PYTHON) -m venv --system-site-packages $(DOLFINX_VENV)
	$(DOLFINX_VENV)/bin/pip install --quiet -c .ci/dolfinx-constraints.txt -e '.[test]'
	touch $(DOLFINX_STAMP)

# Backend parity tests against dolfinx; they fail (not skip) here if dolfinx cannot be imported.
test-dolfinx: $(DOLFINX_STAMP)
	DECIDE_REQUIRE_DOLFINX=1 $(DOLFINX_VENV)/bin/pytest -q tests/envs/pde -m dolfinx

# Keeps the lower bounds honest: a separate venv with .ci/oldest-constraints.txt pinning each runtime
# dependency to its lower bound in pyproject.toml, then the POMDP, fisheries, results, sparse
# linear algebra, robust and tuning tests ($(OLDEST_TESTS)).
$(OLDEST_STAMP): pyproject.toml .ci/oldest-constraints.txt
	rm -rf $(OLDEST_VENV)
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/pip install --quiet --upgrade pip
	$(OLDEST_VENV)/bin/pip install --quiet -c .ci/oldest-constraints.txt -e '.[test]'
	touch $(OLDEST_STAMP)

test-oldest: $(OLDEST_STAMP)
	@$(OLDEST_VENV)/bin/python -c "$(VERSIONS)"
	$(OLDEST_VENV)/bin/pytest -q $(PARALLEL) $(OLDEST_TESTS)
