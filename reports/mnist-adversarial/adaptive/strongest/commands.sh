#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine, after
# ../../commands.sh (the published file datasets/mnist-all/mnist_all_adv.h5, whose victim is
# attacked). One folder per norm and attacked detector; NIC and every other victim-aware detector
# score its worst cases (--score-only: the transfer table). Each seed is its own process.
set -euo pipefail
D=reports/mnist-adversarial/adaptive/strongest
VICTIM_AWARE=feature-squeezing,magnet,victim-mahalanobis,kd,lid,bu,msp,energy
one() {  # DETECTOR SEED NORM BUDGETS
    others=$(echo "$VICTIM_AWARE" | tr , '\n' | grep -vx "$1" | paste -sd, -)
    advbench evaluate-adaptive datasets/mnist-all/mnist_all_adv.h5 --images 270 \
        --detectors "$1" --score-only "$others,nic" --seeds "$2" --norm "$3" --eps "$4" --out "$D/$3/$1"
}
for detector in kd bu; do
    (one "$detector" 0 l2 2.0; one "$detector" 2 l2 2.0) &
    (one "$detector" 1 l2 2.0) &
    wait
done
for detector in victim-mahalanobis feature-squeezing magnet lid msp energy kd bu \
    dual-adversarial deep-svdd-soft deep-svdd; do
    (one "$detector" 0 linf 0.1,0.3; one "$detector" 2 linf 0.1,0.3) &
    (one "$detector" 1 linf 0.1,0.3) &
    wait
done
for detector in victim-mahalanobis feature-squeezing magnet lid msp energy \
    dual-adversarial deep-svdd-soft deep-svdd; do
    (one "$detector" 0 l2 2.0; one "$detector" 2 l2 2.0) &
    (one "$detector" 1 l2 2.0) &
    wait
done
