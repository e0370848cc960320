# The only entry point: install, demo, test, bench, lint, docs, revision.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: install install-dev demo test bench lint docs revision clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -e .
	touch $@

# dev includes the torch extra (torch==2.13.0, pinned) so the data loader tests run
$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -e '.[dev]'
	touch $(VENV)/.installed $(VENV)/.installed-demo $@

# the quickstart's data loader section needs AnnData files and torch
$(VENV)/.installed-demo: pyproject.toml | $(PY)
	$(PIP) install -e '.[anndata,torch]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed-demo
	cd examples && ../$(PY) quickstart.py

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install-dev
	$(PY) benchmarks/run.py

lint: install-dev
	$(VENV)/bin/ruff check lamin_sa tests examples benchmarks
	$(VENV)/bin/ruff format --check lamin_sa
	$(PY) -m pytest -q -p no:cacheprovider tests/test_layers.py

# the API reference from the docstrings; any warning fails the build
docs: install-dev
	$(VENV)/bin/mkdocs build --strict --site-dir site

# make revision MODULE=core MSG="add column"
revision: install-dev
	$(VENV)/bin/lamin-sa migrate revision --module $(MODULE) --message "$(MSG)"

clean:
	rm -rf $(VENV) dist build site
