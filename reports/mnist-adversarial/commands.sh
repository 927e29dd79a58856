#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine.
set -euo pipefail
# 1. The benchmark file (not committed: derived from MNIST), every class normal, the literature's
#    budgets (FGSM, BIM and PGD at L-inf 0.3), DeepFool, C&W and Boundary; victim training and each
#    attack's time measured by the same command through benchmarks/bench_generate_all.py.
advbench generate-attacks --benchmark mnist --root ../shared/data/mnist --normal-class all \
    --attacks fgsm,bim,pgd,deepfool,cw,boundary --device cpu --out datasets/mnist-all/mnist_all_adv.h5
advbench info datasets/mnist-all/mnist_all_adv.h5 --json > reports/mnist-adversarial/dataset_info.json
# 2. Every detector of the groups all, pyod and victim, seeds 0-2; the victim-aware detectors take
#    the victim and the reference sample the file carries. One thread per pair, so --jobs does not
#    change a number. Resumes from the pairs already here; a rebuilt file (another sha256) needs
#    --force, which clears this folder's run outputs only (the republish of 2026-12-07 was run so).
advbench run --data datasets/mnist-all/mnist_all_adv.h5 --detectors all,pyod,victim --seeds 3 --jobs 2 \
    --out reports/mnist-adversarial
# 2b. LID and NIC, added later into the same folder (same file); then the tables again.
advbench run --data datasets/mnist-all/mnist_all_adv.h5 --detectors lid,nic --seeds 3 --jobs 2 \
    --out reports/mnist-adversarial
advbench report reports/mnist-adversarial --ci
# 3. Detection rates at fixed false-positive rates (published detectors' metric) and the background pixels.
python analysis/detection_rates.py reports/mnist-adversarial --fpr 0.05 0.002
python analysis/background_pixels.py datasets/mnist-all/mnist_all_adv.h5 > reports/mnist-adversarial/background_pixels.md
# 4. The file rebuilt with four of its six attacks (C&W and Boundary left out: an hour more), the five
#    detectors with MNIST's defaults beside OC-SVM and Feature Squeezing (their scores check that the
#    sets are the published ones), and Feature Squeezing with the paper's two MNIST squeezers.
advbench generate-attacks --benchmark mnist --root ../shared/data/mnist --normal-class all \
    --attacks fgsm,bim,pgd,deepfool --device cpu --out datasets/mnist-all/mnist_4attacks.h5
advbench run --data datasets/mnist-all/mnist_4attacks.h5 \
    --detectors ocsvm,feature-squeezing,iforest,dcae,deep-svdd,deep-svdd-soft,rcae --seeds 3 --jobs 1 \
    --out reports/mnist-adversarial/experiments/mnist-defaults
advbench run --data datasets/mnist-all/mnist_4attacks.h5 --detectors feature-squeezing --seeds 1 \
    --config reports/mnist-adversarial/experiments/fs-paper-squeezers.toml \
    --out reports/mnist-adversarial/experiments/fs-paper-squeezers
