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

.PHONY: setup test benchmark

# torch is installed first; torchattacks' torchvision then upgrades it to the registry's CUDA build (see README, Install).
$(BIN)/advbench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[test,pyod,ray]"
	touch $@

setup: $(BIN)/advbench

test: setup
	$(BIN)/python -m pytest

# The main job: build the adversarial stop-sign dataset, then Table 4 over 10 seeds.
benchmark: setup
	$(BIN)/advbench generate-attacks $(GTSRB_SOURCE) --out $(DATA)
	$(BIN)/advbench run --data $(DATA) --detectors all --seeds 10 --jobs 2 --out $(RUN_DIR)
