#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine.
set -euo pipefail
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --out datasets/gtsrb_stop_adv.h5
advbench info datasets/gtsrb_stop_adv.h5 --json > reports/gtsrb-stop/victim-aware/dataset_info.json
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors victim --seeds 10 --jobs 1 \
    --gtsrb-root ../shared/data/gtsrb --out reports/gtsrb-stop/victim-aware
advbench report reports/gtsrb-stop/victim-aware --ci
