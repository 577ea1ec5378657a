# Two entry points for people: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
EXAMPLE_PLUGIN := examples/fswap-plugin-example

.PHONY: demo test lint bench install install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed $(wildcard $(EXAMPLE_PLUGIN)/pyproject.toml)
	$(PIP) install -e '.[test]'
	if [ -f $(EXAMPLE_PLUGIN)/pyproject.toml ]; then $(PIP) install --no-build-isolation --no-deps -e $(EXAMPLE_PLUGIN); fi
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
	sh .ci/install-chromium  # Debian's chromium + chromium-driver for the browser tests (root + apt)

demo: install
	$(PY) examples/demo/make_inputs.py
	$(VENV)/bin/fswap run examples/demo/pipeline.toml

lint: install-test
	$(VENV)/bin/ruff check .

# Every run orders the tests by a fresh seed (pytest-randomly, which also reseeds random/numpy per test) and
# runs Python under a fresh PYTHONHASHSEED, so a test that depends on order or on hash order fails here, not on
# a user's machine. The seed is printed first; `make test TEST_SEED=N` repeats that exact run.
ifndef TEST_SEED
TEST_SEED := $(shell $(PYTHON) -c 'import random; print(random.SystemRandom().randint(1, 2**31 - 1))')
endif

# The tests run in TEST_JOBS worker processes (pytest-xdist, one core each, at most 4: each worker holds its
# own TensorFlow); --dist loadfile keeps a test file on one worker, so a module's fixtures (a trained toy
# model, an extracted face set) are built once. TEST_JOBS=0 runs everything in this one process.
TEST_JOBS ?= $(shell $(PYTHON) -c 'import os; print(max(1, min(4, len(os.sched_getaffinity(0)))))')

test: install-test
	$(VENV)/bin/ruff check .
	@echo "test order seed and PYTHONHASHSEED: $(TEST_SEED) (repeat with: make test TEST_SEED=$(TEST_SEED))"
	FSWAP_TEST_SEED=$(TEST_SEED) PYTHONHASHSEED=$(TEST_SEED) $(PY) -m pytest -q -p no:cacheprovider \
		-p randomly --randomly-seed=$(TEST_SEED) -n $(TEST_JOBS) --dist loadfile --durations=15

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) examples/demo/work
