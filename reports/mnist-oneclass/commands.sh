#!/usr/bin/env bash
# The commands behind reports/mnist-oneclass/ and reports/fashion-mnist-oneclass/ (run from the
# repository root; --jobs 2 on a 2-core CPU, one thread per pair).
set -euo pipefail
A=advbench
$A info --benchmark mnist --root ../shared/data/mnist --json > reports/mnist-oneclass/dataset_info.json
$A info --benchmark fashion-mnist --root ../shared/data/fashion-mnist --json > reports/fashion-mnist-oneclass/dataset_info.json
# Protocol 2, every detector of Table 4 and the ablation, seed 0, all ten digits.
$A run --benchmark mnist --root ../shared/data/mnist --protocol 2 --classes all --detectors all,ablation --seeds 1 \
    --jobs 2 --out reports/mnist-oneclass/protocol-2
# The four detectors whose result depends on the seed, over seeds 0-2 (protocol-2-seeds/).
$A run --benchmark mnist --root ../shared/data/mnist --protocol 2 --classes all \
    --detectors iforest,dcae,deep-svdd,deep-svdd-soft --seeds 3 --jobs 2 --out reports/mnist-oneclass/protocol-2-seeds
# IF with the reference's `--pca 1` (PCA keeping 95% of the variance), seeds 0-2 (protocol-2-iforest-pca/).
$A run --benchmark mnist --root ../shared/data/mnist --protocol 2 --classes all --detectors iforest --seeds 3 \
    --config reports/mnist-oneclass/iforest-pca.toml --out reports/mnist-oneclass/protocol-2-iforest-pca
# The dual detector and the single autoencoder with seed 1 (protocol-2-dual-seed-1/).
$A run --benchmark mnist --root ../shared/data/mnist --protocol 2 --classes all \
    --detectors dual-adversarial,ablation-single-ae --seeds 1, --jobs 2 --out reports/mnist-oneclass/protocol-2-dual-seed-1
# Protocol 1 (the paper's Table 2) for the dual detector, the DCAE and Deep SVDD, seed 0.
$A run --benchmark mnist --root ../shared/data/mnist --protocol 1 --classes all \
    --detectors dual-adversarial,dcae,deep-svdd --seeds 1 --jobs 2 --out reports/mnist-oneclass/protocol-1
$A run --benchmark fashion-mnist --root ../shared/data/fashion-mnist --protocol 1 --classes all \
    --detectors dual-adversarial,dcae,deep-svdd --seeds 1 --jobs 2 --out reports/fashion-mnist-oneclass/protocol-1
# Analyses of the stored scores and the control fits cited in the README.
python analysis/mnist_breakdown.py reports/mnist-oneclass/protocol-2
python analysis/ink_controls.py --detector ablation-single-ae --classes 0,7 \
    > reports/mnist-oneclass/experiments/ink_controls_single_ae.md
python analysis/ink_controls.py --detector dual-adversarial --classes 0 \
    --variants "no augmentation,GCN + min-max inputs" > reports/mnist-oneclass/experiments/ink_controls_dual.md
python benchmarks/bench_oneclass.py --benchmark mnist --class 0 --seed 0 --detectors all,ablation
python analysis/iforest_features.py > reports/mnist-oneclass/experiments/iforest_features.md
