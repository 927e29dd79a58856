# Set-up and the two quickstart jobs. `make test` is what CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Where GTSRB comes from: GTSRB_ROOT=DIR on the command line or $$ADVBENCH_GTSRB_ROOT, else the shared copy
# beside the clone when it exists, else the official archives downloaded into datasets/gtsrb/ (checked, resumable).
GTSRB_ROOT ?= $(or $(ADVBENCH_GTSRB_ROOT),$(wildcard ../shared/data/gtsrb))
GTSRB_SOURCE = $(if $(GTSRB_ROOT),--gtsrb-root $(GTSRB_ROOT),--download)
DATA ?= datasets/gtsrb_stop_adv.h5
RUN_DIR ?= runs/gtsrb-stop
# The torch build installed first: the CPU build by default; TORCH=torch takes the registry's (CUDA) build.
TORCH ?= torch==2.13.0
CHECK_VENV ?= .venv-install-check

.PHONY: setup test lint benchmark check-install

# torch first, then advbench with the test, lint, PyOD and Ray extras, then torchattacks without its
# dependencies (its pins would downgrade requests and pull torchvision; it imports neither), so
# the torchattacks backend and its cross-check tests are there.
$(BIN)/advbench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test,lint,pyod,ray]"
	$(BIN)/python -m pip install --quiet --no-deps "torchattacks>=3.5"
	touch $@

setup: $(BIN)/advbench

# The package as users get it. A fresh venv gets torch and a current requests first; `python -m build`
# (a CI tool, installed into the check venv only) makes the sdist and, from it, the wheel, into
# $(CHECK_VENV)/dist. The wheel must hold every module and the results site's templates and static
# files and the shipped victims, the sdist pyproject.toml and the package. Installing the wheel must keep requests, pull no
# torchvision or torchattacks, and pass `pip check`. Then .ci/smoke.py runs the installed advbench
# from a temporary folder outside the checkout: --version, list, and generate-attacks, run and
# report on tiny MNIST-format data.
check-install:
	rm -rf $(CHECK_VENV)
	$(PYTHON) -m venv $(CHECK_VENV)
	$(CHECK_VENV)/bin/python -m pip install --quiet --upgrade pip build
	$(CHECK_VENV)/bin/python -m pip install --quiet "$(TORCH)" "requests>=2.32.4"
	$(CHECK_VENV)/bin/python -m build --outdir $(CHECK_VENV)/dist . > $(CHECK_VENV)/build.log 2>&1 || { cat $(CHECK_VENV)/build.log; exit 1; }
	$(CHECK_VENV)/bin/python -c "import glob, tarfile, zipfile; \
	(whl,), (sdist,) = glob.glob('$(CHECK_VENV)/dist/*.whl'), glob.glob('$(CHECK_VENV)/dist/*.tar.gz'); \
	want = {*glob.glob('advbench/**/*.py', recursive=True), *glob.glob('advbench/site/templates/*.html'), *glob.glob('advbench/site/static/*'), *glob.glob('advbench/victims/*')}; \
	missing = want - set(zipfile.ZipFile(whl).namelist()); assert not missing, f'{whl} lacks {sorted(missing)}'; \
	top = sdist.rsplit('/', 1)[-1].removesuffix('.tar.gz'); \
	missing = {f'{top}/{name}' for name in ('pyproject.toml', *want)} - set(tarfile.open(sdist).getnames()); \
	assert not missing, f'{sdist} lacks {sorted(missing)}'; \
	print(f'wheel and sdist hold the package ({len(want)} files, site templates, static files and shipped victims included)')"
	$(CHECK_VENV)/bin/python -m pip install --quiet $(CHECK_VENV)/dist/advbench-*.whl
	$(CHECK_VENV)/bin/python -m pip check
	$(CHECK_VENV)/bin/python -c "from importlib import metadata, util; v = metadata.version('requests'); \
	assert tuple(map(int, v.split('.')[:3])) >= (2, 32, 4), f'requests {v}'; \
	extra = [n for n in ('torchvision', 'torchattacks') if util.find_spec(n)]; assert not extra, extra; \
	print(f'clean install: requests {v}, torch {metadata.version(\"torch\")}, no torchvision, no torchattacks')"
	$(CHECK_VENV)/bin/python .ci/smoke.py
	rm -rf $(CHECK_VENV)

test: setup
	$(BIN)/python -m pytest

# ruff's linter and formatter (configured in pyproject.toml), as the pre-commit hooks run them.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The main job: build the adversarial stop-sign dataset, then Table 4 over 10 seeds.
benchmark: setup
	$(BIN)/advbench generate-attacks $(GTSRB_SOURCE) --out $(DATA)
	$(BIN)/advbench run --data $(DATA) --detectors all --seeds 10 --jobs 2 --out $(RUN_DIR)
