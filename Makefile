# Two entry points, both idempotent: `make demo` and `make test`.
# The virtual environment is rebuilt only when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install demo walkthrough test test-fast lint bench js chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e ".[all,test]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/simwidgets demo

# The command-line walk-through of the bundled models (no browser needed).
walkthrough: install
	$(VENV)/bin/simwidgets similarity "A man is playing a guitar." "Someone plays an instrument." \
		"The stock market fell sharply." -m minilm -m glove-50d -m tfidf
	$(VENV)/bin/simwidgets neighbours frog -m glove-50d -m minilm -k 8
	$(VENV)/bin/simwidgets evaluate --standard -m minilm -m glove-50d -m glove-50d?pooling=sif -m tfidf

# Browser tests drive Debian's Chromium (a test tool's own browser download fails offline).
chromium:
	@test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)

js/node_modules: js/package.json
	@command -v npm >/dev/null || (apt-get update -q && apt-get install -y -q nodejs npm)
	cd js && npm install --no-audit --no-fund
	touch js/node_modules

# Everything: lint, JS unit tests, the library, every example in the Binder reproduction and
# the widgets in real JupyterLab, Notebook 7 and marimo (Chromium), in two pytest-xdist
# workers (each builds its own session fixtures). The slowest tests are listed at the end.
test: install chromium js/node_modules
	$(PY) -m ruff check simwidgets tests
	node --test js/test/
	$(PY) -m pytest -n 2 --durations=15

# The library alone (no browser, no notebooks, no Binder environment): a few minutes.
test-fast: install
	$(PY) -m ruff check simwidgets tests
	$(PY) -m pytest -n 2 --durations=10 --ignore=tests/browser --ignore=tests/test_binder.py \
		--deselect tests/test_examples.py::test_example_notebook_runs

# Rebuild the widgets' JS bundles into simwidgets/static/ (committed, so installs need no Node).
js: js/node_modules
	cd js && node build.mjs

lint: install
	$(PY) -m ruff check simwidgets tests
	$(PY) -m ruff format --check simwidgets tests

# Speed and memory figures (minutes; they append to benchmarks/results.jsonl).
bench: install
	cd benchmarks && ../$(PY) bench_pairs_static.py
	cd benchmarks && ../$(PY) bench_pairs_transformer.py
	cd benchmarks && ../$(PY) bench_neighbours.py
	cd benchmarks && ../$(PY) bench_projection.py
	cd benchmarks && ../$(PY) bench_memory.py
