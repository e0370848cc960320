# The only entry point: install, demo, test, bench, lint, docs, revision.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: install install-dev demo test bench bench-long bench-compare bench-team lint docs \
	revision clean

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

# one worker per core (files stay whole on a worker); then the tests that change
# the shared venv, alone (exit code 5: PYTEST_ARGS selected none of them)
test: install-dev
	$(PY) -m pytest -n auto --dist loadfile -m "not serial" $(PYTEST_ARGS)
	$(PY) -m pytest -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]

# pronto and fastobo for the ontology benchmark's ratios: make bench installs them,
# make test does not
$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(PIP) install -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(PY) benchmarks/run.py

# also the 100k rows of the scaling benchmark (several minutes)
bench-long: $(VENV)/.installed-bench
	LAMIN_SA_BENCH_SCALE_MAX=100000 $(PY) benchmarks/run.py

# LaminDB in its own venv, pinned to the version the performance table quotes
LAMINDB_VENV := .venv-lamindb
LAMINDB_VERSION := 2.12.1

$(LAMINDB_VENV)/.installed:
	$(PYTHON) -m venv $(LAMINDB_VENV)
	$(LAMINDB_VENV)/bin/python -m pip --disable-pip-version-check -q \
		install 'lamindb==$(LAMINDB_VERSION)'
	touch $@

# make bench-compare [COMPARE_ARGS="--reps 5 --slow-reps 3 --only df,filter"]
# with LAMIN_SA_BENCH_PG_URL=postgresql+psycopg:///db also lamin-sa on PostgreSQL
bench-compare: install-dev $(LAMINDB_VENV)/.installed
	$(PY) benchmarks/compare/driver.py --lamindb-python $(LAMINDB_VENV)/bin/python \
		$(COMPARE_ARGS)

# 8 writers vs 1 on PostgreSQL: LAMIN_SA_BENCH_PG_URL=postgresql+psycopg:///db
bench-team: install-dev
	$(PY) benchmarks/bench_team.py

lint: install-dev
	$(VENV)/bin/ruff check lamin_sa tests examples benchmarks
	$(VENV)/bin/ruff format --check lamin_sa
	$(VENV)/bin/mypy lamin_sa/db lamin_sa/query lamin_sa/models lamin_sa/storage
	$(PY) -m pytest -q -p no:cacheprovider tests/test_layers.py

# the API reference from the docstrings; any warning fails the build
docs: install-dev
	$(VENV)/bin/mkdocs build --strict --site-dir site

# make revision MODULE=core MSG="add column"
revision: install-dev
	$(VENV)/bin/lamin-sa migrate revision --module $(MODULE) --message "$(MSG)"

clean:
	rm -rf $(VENV) $(LAMINDB_VENV) dist build site
