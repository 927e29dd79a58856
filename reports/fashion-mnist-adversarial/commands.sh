#!/usr/bin/env bash
# The commands behind this folder, run from the repository root on a 2-core CPU machine.
set -euo pipefail
# 1. The benchmark file (not committed: derived from Fashion-MNIST), every class normal, the
#    registry's Fashion-MNIST budgets (FGSM, BIM and PGD at L-inf 0.1, Wong and Kolter 2018),
#    DeepFool, C&W and Boundary; victim training and each attack's time measured by the same
#    command through benchmarks/bench_generate_all.py.
advbench generate-attacks --benchmark fashion-mnist --root ../shared/data/fashion-mnist --normal-class all \
    --attacks fgsm,bim,pgd,deepfool,cw,boundary --device cpu --out datasets/fashion-all/fashion-mnist_all_adv.h5
advbench info datasets/fashion-all/fashion-mnist_all_adv.h5 --json > reports/fashion-mnist-adversarial/dataset_info.json
# 2. Every detector of the groups all, pyod and victim, seeds 0-2; the victim-aware detectors take
#    the victim and the reference sample the file carries. One thread per pair, so --jobs does not
#    change a number. Resumes from the pairs already here; a rebuilt file (another sha256) needs
#    --force, which clears this folder's run outputs only (the republish of 2026-12-07 was run so).
advbench run --data datasets/fashion-all/fashion-mnist_all_adv.h5 --detectors all,pyod,victim --seeds 3 --jobs 2 \
    --out reports/fashion-mnist-adversarial
advbench report reports/fashion-mnist-adversarial --ci
# 3. Detection rates at fixed false-positive rates (published detectors' metric) and the background pixels.
python analysis/detection_rates.py reports/fashion-mnist-adversarial --fpr 0.05 0.002
python analysis/background_pixels.py datasets/fashion-all/fashion-mnist_all_adv.h5 > reports/fashion-mnist-adversarial/background_pixels.md
# 4. How often Feature Squeezing's squeezers change the victim's label of a clean image, beside MNIST's file.
python analysis/squeezed_labels.py datasets/mnist-all/mnist_all_adv.h5 datasets/fashion-all/fashion-mnist_all_adv.h5 \
    > reports/fashion-mnist-adversarial/squeezed_labels.md
# 5. The file rebuilt with four of its six attacks (C&W and Boundary left out), and the five detectors
#    with the MNIST-type defaults beside OC-SVM and Feature Squeezing (their scores check the sets).
advbench generate-attacks --benchmark fashion-mnist --root ../shared/data/fashion-mnist --normal-class all \
    --attacks fgsm,bim,pgd,deepfool --device cpu --out datasets/fashion-all/fashion_4attacks.h5
advbench run --data datasets/fashion-all/fashion_4attacks.h5 \
    --detectors ocsvm,feature-squeezing,iforest,dcae,deep-svdd,deep-svdd-soft,rcae --seeds 3 --jobs 2 \
    --out reports/fashion-mnist-adversarial/experiments/mnist-defaults
