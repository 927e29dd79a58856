#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine.
set -euo pipefail
# 1. The benchmark file (not committed: derived from GTSRB), every one of the 43 classes normal, the
#    paper's four attacks at its defaults plus C&W, from 1,000 class-stratified test images the
#    victim classifies correctly. The victim is the default stop-sign file's (the same 43-class
#    network), taken from that file. A stopped run resumes from the attacks that finished.
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --normal-class all --victim-from datasets/gtsrb_stop_adv.h5 \
    --attacks boundary,fgsm,bim,deepfool,cw --device cpu --out datasets/gtsrb-all/gtsrb_all_adv.h5
advbench info datasets/gtsrb-all/gtsrb_all_adv.h5 --json > reports/gtsrb-all/dataset_info.json
# 2. Every detector of the groups all, pyod and victim, seeds 0-2. Resumes from the pairs already here.
advbench run --data datasets/gtsrb-all/gtsrb_all_adv.h5 --detectors all,pyod,victim --seeds 3 --jobs 2 \
    --out reports/gtsrb-all
advbench report reports/gtsrb-all --ci
# 3. Detection rates at fixed false-positive rates (published detectors' metric).
python analysis/detection_rates.py reports/gtsrb-all --fpr 0.05 0.002
# 4. The attack sets beside robust-error figures, and where Boundary moves its images.
python analysis/within_radius.py datasets/gtsrb-all/gtsrb_all_adv.h5 --l2 0.2 0.5 --linf 4/255 8/255 \
    > reports/gtsrb-all/within_radius.md
python analysis/towards_mean.py datasets/gtsrb-all/gtsrb_all_adv.h5 > reports/gtsrb-all/towards_mean.md
