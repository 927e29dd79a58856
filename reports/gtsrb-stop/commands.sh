#!/usr/bin/env bash
# The exact commands behind this report, run from the repository root on a 2-core CPU machine.
set -euo pipefail
# 1. The benchmark file (not committed: derived from GTSRB; every attack via foolbox). Its sha256 is
#    in README.md; `advbench info` of it is dataset_info.json. experiments/attack_backends.md compares
#    it with the previous file (FGSM, BIM, DeepFool via torchattacks), kept as gtsrb_stop_adv.torchattacks.h5.
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --out datasets/gtsrb_stop_adv.h5
advbench info datasets/gtsrb_stop_adv.h5 --json > reports/gtsrb-stop/dataset_info.json
# 2. Table 4 and Table 1's ablation variants over 10 seeds, default profile (this folder).
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors all,ablation --seeds 10 --jobs 2 \
    --out reports/gtsrb-stop --force
# 3. The same with the reference profile (reference/), as many seeds as the machine allowed;
#    the command resumes from the pairs already in the folder. Not run again in this version: it
#    holds the previous file's results (torchattacks DeepFool, tree-based KDE; see README.md).
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors all,ablation --seeds 3 --jobs 2 \
    --profile reference --out reports/gtsrb-stop/reference
# 4. The two control runs of the discussion (10 seeds each, default profile otherwise).
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors rcae --seeds 10 \
    --config reports/gtsrb-stop/experiments/rcae-dense-s.toml --out reports/gtsrb-stop/experiments/rcae-dense-s
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors dcae --seeds 10 \
    --config reports/gtsrb-stop/experiments/dcae-20-epochs.toml --out reports/gtsrb-stop/experiments/dcae-20-epochs
# 5. Table 4 and Table 1 under --protocol heldout-train (heldout-train/).
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors all,ablation --seeds 10 --jobs 2 \
    --protocol heldout-train --out reports/gtsrb-stop/heldout-train
# 6. The budget file: the four attacks at their defaults and the sweeps (the cached victim is
#    reused; its default attack sets equal those of gtsrb_stop_adv.h5), then Table 4's detectors
#    on it (budget/).
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --out datasets/gtsrb_stop_budget.h5 \
    --sweep fgsm.eps=2/255,4/255,8/255,16/255,32/255,64/255 --sweep bim.eps=2/255,4/255,8/255,16/255,32/255,64/255 \
    --sweep boundary.steps=500,1000,2000
advbench info datasets/gtsrb_stop_budget.h5 --json > reports/gtsrb-stop/budget/dataset_info.json
advbench run --data datasets/gtsrb_stop_budget.h5 --detectors all --seeds 10 --jobs 2 --out reports/gtsrb-stop/budget
# 7. A PyOD detector beside ours (pyod/).
advbench run --data datasets/gtsrb_stop_adv.h5 --detectors pyod:ECOD,ocsvm --seeds 10 --jobs 2 --out reports/gtsrb-stop/pyod
# 8. Adaptive attacks (adaptive/): plain PGD at four budgets and PGD made to evade DCAE and the dual
#    detector fitted with seeds 0-2 (the joint objective, the only one then), then Table 4's detectors over those seeds.
advbench generate-attacks --gtsrb-root ../shared/data/gtsrb --out datasets/gtsrb_stop_adaptive.h5 \
    --attacks "pgd,pgd@eps=16/255,pgd@eps=32/255,pgd@eps=64/255" --adaptive dcae,dual-adversarial --adaptive-seeds 0,1,2 \
    --adaptive-objective joint
advbench info datasets/gtsrb_stop_adaptive.h5 --json > reports/gtsrb-stop/adaptive/dataset_info.json
advbench run --data datasets/gtsrb_stop_adaptive.h5 --detectors all --seeds 3 --jobs 2 --out reports/gtsrb-stop/adaptive
# The FGSM pairing of the folders run before runs wrote pairing.json (README.md, "Pairing"), then the tables again.
python analysis/recover_pairing.py reports/gtsrb-stop reports/gtsrb-stop/heldout-train reports/gtsrb-stop/budget || true
python analysis/recover_pairing.py --from reports/gtsrb-stop reports/gtsrb-stop/pyod reports/gtsrb-stop/reference \
    reports/gtsrb-stop/experiments/dcae-20-epochs reports/gtsrb-stop/experiments/rcae-dense-s
for folder in reports/gtsrb-stop reports/gtsrb-stop/heldout-train reports/gtsrb-stop/pyod reports/gtsrb-stop/reference \
    reports/gtsrb-stop/budget reports/gtsrb-stop/experiments/dcae-20-epochs reports/gtsrb-stop/experiments/rcae-dense-s \
    reports/gtsrb-stop/adaptive; do
    advbench report "$folder" --ci
done
