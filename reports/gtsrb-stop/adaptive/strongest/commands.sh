#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine, after
# ../../commands.sh (the default file datasets/gtsrb_stop_adv.h5, whose victim is attacked).
# One folder per attacked detector; every other victim-aware detector scores its
# worst cases (--score-only: the transfer table).
set -euo pipefail
D=reports/gtsrb-stop/adaptive/strongest
VICTIM_AWARE=feature-squeezing,magnet,victim-mahalanobis,kd,bu,msp,energy
# Each seed is its own process (one thread each); the seeds of one detector join its folder.
one() {  # DETECTOR SEED
    others=$(echo "$VICTIM_AWARE" | tr , '\n' | grep -vx "$1" | paste -sd, -)
    advbench evaluate-adaptive datasets/gtsrb_stop_adv.h5 --gtsrb-root ../shared/data/gtsrb \
        --detectors "$1" --score-only "$others" --seeds "$2" --eps 8/255 --out "$D/$1"
}
(one victim-mahalanobis 0; one victim-mahalanobis 2) &
(one victim-mahalanobis 1; one feature-squeezing 0; one feature-squeezing 1; one feature-squeezing 2) &
wait
