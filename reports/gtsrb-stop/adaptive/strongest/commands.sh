#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine, after
# ../../commands.sh (the default file datasets/gtsrb_stop_adv.h5, whose victim is attacked).
# One evaluation per attacked detector (a folder each); every other victim-aware detector scores its
# worst cases (--score-only: the transfer table).
set -euo pipefail
D=reports/gtsrb-stop/adaptive/strongest
VICTIM_AWARE=feature-squeezing,magnet,victim-mahalanobis,kd,bu,msp,energy
for detector in victim-mahalanobis feature-squeezing; do
    others=$(echo "$VICTIM_AWARE" | tr , '\n' | grep -vx "$detector" | paste -sd, -)
    advbench evaluate-adaptive datasets/gtsrb_stop_adv.h5 --gtsrb-root ../shared/data/gtsrb \
        --detectors "$detector" --score-only "$others" --seeds 0,1,2 --eps 8/255 --out "$D/$detector"
done
