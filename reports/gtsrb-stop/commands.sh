#!/usr/bin/env bash
# The exact commands behind this report, run from the repository root on a 2-core CPU machine.
set -euo pipefail
# 1. The benchmark file (not committed: derived from GTSRB). Its sha256 is in README.md;
#    `advbench info` of it is dataset_info.json.
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --out datasets/gtsrb_stop_adv.h5
# 2. Table 4 over 10 seeds, then Table 1's ablation variants into the same folder.
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors all --seeds 10 --jobs 2 --out reports/gtsrb-stop
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors ablation --seeds 10 --jobs 2 --out reports/gtsrb-stop
# 3. Tables and figures from the stored results (what the committed files are).
advbench report reports/gtsrb-stop --data datasets/gtsrb_stop_adv.h5
