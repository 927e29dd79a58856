#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine, after
# ../../commands.sh (the default file, whose victim this file attacks again).
set -euo pipefail
D=reports/gtsrb-stop/adaptive/victim-aware
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --victim-from datasets/gtsrb_stop_adv.h5 \
    --attacks "pgd@steps=40" --adaptive feature-squeezing,magnet,victim-mahalanobis,kd,msp \
    --adaptive-seeds 0,1,2 --out datasets/gtsrb_stop_adaptive_victim.h5
advbench info datasets/gtsrb_stop_adaptive_victim.h5 --json > $D/dataset_info.json
advbench run --data datasets/gtsrb_stop_adaptive_victim.h5 --detectors victim --seeds 3 --jobs 1 \
    --gtsrb-root ../shared/data/gtsrb --out $D
advbench report $D --ci
