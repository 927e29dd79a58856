#!/usr/bin/env bash
# The exact commands behind this report, run from the repository root on a 2-core CPU machine.
set -euo pipefail
# 1. The benchmark file (not committed: derived from GTSRB). Its sha256 is in README.md;
#    `advbench info` of it is dataset_info.json.
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --out datasets/gtsrb_stop_adv.h5
advbench info datasets/gtsrb_stop_adv.h5 --json > reports/gtsrb-stop/dataset_info.json
# 2. Table 4 and Table 1's ablation variants over 10 seeds, default profile (this folder).
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors all,ablation --seeds 10 --jobs 2 \
    --out reports/gtsrb-stop --force
# 3. The same with the reference profile (reference/), as many seeds as the machine allowed;
#    the command resumes from the pairs already in the folder.
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors all,ablation --seeds 3 --jobs 2 \
    --profile reference --out reports/gtsrb-stop/reference
# 4. The two control runs of the discussion (10 seeds each, default profile otherwise).
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors rcae --seeds 10 \
    --config reports/gtsrb-stop/experiments/rcae-dense-s.toml --out reports/gtsrb-stop/experiments/rcae-dense-s
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors dcae --seeds 10 \
    --config reports/gtsrb-stop/experiments/dcae-20-epochs.toml --out reports/gtsrb-stop/experiments/dcae-20-epochs
