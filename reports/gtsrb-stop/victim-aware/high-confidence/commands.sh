#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine, after
# ../commands.sh (the default file, whose victim these attacks use again).
set -euo pipefail
# 1. PGD past the boundary: 40 steps (step eps/4, random start) at 8, 16 and 32/255, all 270 stop signs.
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --victim-from datasets/gtsrb_stop_adv.h5 \
    --attacks "pgd@steps=40,pgd@eps=16/255,steps=40,pgd@eps=32/255,steps=40" --out datasets/gtsrb_stop_pgd40.h5
# 2. C&W with its confidence margin kappa at 0, 10, 20 and 40 (MagNet's sweep without 30), on the
#    first 100 of the 270 stop signs (--limit; C&W takes seconds per image on the CPU).
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --victim-from datasets/gtsrb_stop_adv.h5 \
    --attacks "cw,cw@confidence=10,cw@confidence=20,cw@confidence=40" --limit 100 --out datasets/gtsrb_stop_cw_kappa.h5
H=reports/gtsrb-stop/victim-aware/high-confidence
mkdir -p $H/pgd40 $H/cw-confidence
advbench info datasets/gtsrb_stop_pgd40.h5 --json > $H/pgd40/dataset_info.json
advbench info datasets/gtsrb_stop_cw_kappa.h5 --json > $H/cw-confidence/dataset_info.json
# 3. The seven victim-aware detectors, 10 seeds, on each file.
advbench run --data datasets/gtsrb_stop_pgd40.h5 --detectors victim --seeds 10 --jobs 1 \
    --gtsrb-root ../shared/data/gtsrb --out $H/pgd40
advbench run --data datasets/gtsrb_stop_cw_kappa.h5 --detectors victim --seeds 10 --jobs 1 \
    --gtsrb-root ../shared/data/gtsrb --out $H/cw-confidence
advbench report $H/pgd40 --ci
advbench report $H/cw-confidence --ci
