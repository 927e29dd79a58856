#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine, after
# ../../commands.sh (the default file datasets/gtsrb_stop_adv.h5, whose victim is attacked).
# One folder per attacked detector; the other victim-aware detectors score its worst cases
# (--score-only: the transfer table). Each seed is its own process (one thread each); the seeds
# and budgets of one detector join its folder.
set -euo pipefail
D=reports/gtsrb-stop/adaptive/strongest
one() {  # DETECTOR SEED BUDGET SCORERS
    others=$(echo "$4" | tr , '\n' | grep -vx "$1" | paste -sd, -)
    advbench evaluate-adaptive datasets/gtsrb_stop_adv.h5 --gtsrb-root ../shared/data/gtsrb \
        --detectors "$1" --score-only "$others" --seeds "$2" --eps "$3" --out "$D/$1"
}
# Deep Mahalanobis and Feature Squeezing, started before LID and NIC joined the transfer columns.
FIRST=feature-squeezing,magnet,victim-mahalanobis,kd,bu,msp,energy
(one victim-mahalanobis 0 8/255 $FIRST; one victim-mahalanobis 2 8/255 $FIRST; one feature-squeezing 1 8/255 $FIRST) &
(one victim-mahalanobis 1 8/255 $FIRST; one feature-squeezing 0 8/255 $FIRST; one feature-squeezing 2 8/255 $FIRST) &
wait
for detector in victim-mahalanobis feature-squeezing; do
    (one "$detector" 0 16/255 $FIRST; one "$detector" 2 16/255 $FIRST) &
    (one "$detector" 1 16/255 $FIRST) &
    wait
done
# The others: LID attacked too, NIC scores.
ALL=$FIRST,lid,nic
for detector in magnet kd bu msp energy lid rcae deep-svdd deep-svdd-soft; do
    (one "$detector" 0 8/255,16/255 $ALL; one "$detector" 2 8/255,16/255 $ALL) &
    (one "$detector" 1 8/255,16/255 $ALL) &
    wait
done
# Tables beside the verdicts: each check re-run's member alone (from the kept candidates), and the
# feature-space member alone at three step sizes (a diagnostic on the test images).
python analysis/check_members.py "$D/victim-mahalanobis" > "$D/victim-mahalanobis/check_members.md"
python analysis/feature_space_step.py datasets/gtsrb_stop_adv.h5 --gtsrb-root ../shared/data/gtsrb --seed 0
