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

demo: install
	$(PY) examples/demo/make_inputs.py
	$(VENV)/bin/fswap run examples/demo/pipeline.toml

lint: install-test
	$(VENV)/bin/ruff check .

test: install-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -p no:cacheprovider

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) examples/demo/work
