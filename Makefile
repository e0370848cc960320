# The only entry point: install, demo, test, bench, lint, revision.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: install install-dev demo test bench lint revision clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: install
	cd examples && ../$(PY) quickstart.py

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install-dev
	$(PY) benchmarks/run.py

lint: install-dev
	$(VENV)/bin/ruff check lamin_sa tests examples benchmarks
	$(VENV)/bin/ruff format --check lamin_sa
	$(PY) -m pytest -q -p no:cacheprovider tests/test_layers.py

# make revision MODULE=core MSG="add column"
revision: install-dev
	$(VENV)/bin/lamin-sa migrate revision --module $(MODULE) --message "$(MSG)"

clean:
	rm -rf $(VENV) dist build
