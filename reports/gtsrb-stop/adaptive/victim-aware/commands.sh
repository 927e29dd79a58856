#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine, after
# ../../commands.sh (the default file, whose victim these files attack again).
set -euo pipefail
D=reports/gtsrb-stop/adaptive/victim-aware
# 1. The design as registered (joint/): the score term weighed from the first step. The run went
#    into $D itself and its outputs were moved to joint/ when fool-first/ was added.
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --victim-from datasets/gtsrb_stop_adv.h5 \
    --attacks "pgd@steps=40" --adaptive feature-squeezing,magnet,victim-mahalanobis,kd,msp \
    --adaptive-seeds 0,1,2 --adaptive-objective joint --out datasets/gtsrb_stop_adaptive_victim.h5
advbench info datasets/gtsrb_stop_adaptive_victim.h5 --json > $D/joint/dataset_info.json
advbench run --data datasets/gtsrb_stop_adaptive_victim.h5 --detectors victim --seeds 3 --jobs 1 \
    --gtsrb-root ../shared/data/gtsrb --out $D/joint
advbench report $D/joint --ci
# 2. The same attack with the score term counted once an image fools the victim (fool-first/).
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --victim-from datasets/gtsrb_stop_adv.h5 \
    --attacks "pgd@steps=40" --adaptive feature-squeezing,magnet,victim-mahalanobis,kd,msp \
    --adaptive-seeds 0,1,2 --adaptive-objective fool-first --out datasets/gtsrb_stop_adaptive_victim_ff.h5
advbench info datasets/gtsrb_stop_adaptive_victim_ff.h5 --json > $D/fool-first/dataset_info.json
advbench run --data datasets/gtsrb_stop_adaptive_victim_ff.h5 --detectors victim --seeds 3 --jobs 1 \
    --gtsrb-root ../shared/data/gtsrb --out $D/fool-first
advbench report $D/fool-first --ci
# 3. BU through its fixed dropout masks (bu/), with the victim of the default file trained again
#    (the cached victim-<key>.pt that `advbench generate-attacks` writes beside the default file).
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --victim datasets/victim-f2b6dc7621edf7f9.pt \
    --attacks "pgd@steps=40" --adaptive bu --adaptive-seeds 0,1,2 --adaptive-objective fool-first \
    --out datasets/gtsrb_stop_adaptive_bu.h5
advbench info datasets/gtsrb_stop_adaptive_bu.h5 --json > $D/bu/dataset_info.json
advbench run --data datasets/gtsrb_stop_adaptive_bu.h5 --detectors bu --seeds 3 --jobs 1 --out $D/bu
advbench report $D/bu --ci
