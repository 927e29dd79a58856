#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine: the budget
# file of ../../budget/ (../../commands.sh step 6; the cached victim is reused), then the seven
# victim-aware detectors on it.
set -euo pipefail
B=reports/gtsrb-stop/victim-aware/budget
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --out datasets/gtsrb_stop_budget.h5 \
    --sweep fgsm.eps=2/255,4/255,8/255,16/255,32/255,64/255 --sweep bim.eps=2/255,4/255,8/255,16/255,32/255,64/255 \
    --sweep boundary.steps=500,1000,2000
advbench info datasets/gtsrb_stop_budget.h5 --json > $B/dataset_info.json
advbench run --data datasets/gtsrb_stop_budget.h5 --detectors victim --seeds 10 --jobs 1 \
    --gtsrb-root ../shared/data/gtsrb --out $B
advbench report $B --ci
