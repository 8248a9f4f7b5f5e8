# The two front doors: `make run` starts OptiScope, `make test` runs every check headless.
# Both build .venv from requirements.lock on first use (and again when the lock changes).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Numba's on-disk cache of the compiled kernels, built once after installing and again whenever the
# sources it is compiled from change, so that the app's first window (and the first L-BFGS run or
# basin map) never waits for a compile.
KERNELS := $(VENV)/.kernels
KERNEL_SOURCES := $(wildcard simulator/*.py) gui/simulator_tab/trail_geometry.py gui/simulator_tab/contours.py

.PHONY: run test lint bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(KERNELS): $(STAMP) $(KERNEL_SOURCES)
	$(PY) main.py prepare
	touch $(KERNELS)

run: $(KERNELS)
	$(PY) main.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: lint $(KERNELS)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_simulator.py
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_explore.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_gui.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_startup.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_stalls.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
