#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine.
set -euo pipefail
# The default stop-sign file (benchmark version gtsrb-stop-v1: the shipped victim; its arrays are
# those of the parent folder's file), then KD (an anchor: its lines must equal the parent's), LID and
# NIC over seeds 0-9, one thread per pair.
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --out datasets/gtsrb_stop_adv.h5
advbench info datasets/gtsrb_stop_adv.h5 --json > reports/gtsrb-stop/victim-aware/lid-nic/dataset_info.json
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors kd,lid,nic --seeds 10 --jobs 2 \
    --gtsrb-root ../shared/data/gtsrb --out reports/gtsrb-stop/victim-aware/lid-nic
advbench report reports/gtsrb-stop/victim-aware/lid-nic --ci
