"""Evaluate a PyOD model and a ten-line custom detector on the stop signs, and plot their ROC curves.

    python docs/examples/evaluate_stop_signs.py datasets/gtsrb_stop_adv.h5 --out runs/notebook

The benchmark file comes from ``advbench generate-attacks`` (``make benchmark`` builds it); PyOD is
the ``pyod`` extra. The ``# %%`` cells open as a notebook in editors that read the percent format.
The run folder it writes (``--out``) is one that ``advbench report`` and ``advbench site`` read.
"""

# %% The benchmark file and where to write
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write the figure to a file; drop this line in a notebook
import matplotlib.pyplot as plt
import numpy as np
from pyod.models.ecod import ECOD
from sklearn.metrics import roc_curve

import advbench

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("data", help="benchmark file of `advbench generate-attacks`")
parser.add_argument("--out", default="runs/notebook", help="run folder to write (default: runs/notebook)")
parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default: 10)")
args = parser.parse_args()

bench = advbench.load(args.data)
print(f"{len(bench.normal_train)} training images, attacks: {', '.join(bench.attacks)}")


# %% A detector of your own: any class with fit(X) and decision_function(X), higher = more anomalous
class CentroidDistance:
    """Euclidean distance of an image to the mean training image (X: N x C x H x W in [0, 1])."""

    def fit(self, X):
        self.center_ = X.reshape(len(X), -1).mean(axis=0)
        return self

    def decision_function(self, X):
        return np.linalg.norm(X.reshape(len(X), -1) - self.center_, axis=1)


# %% Both over the seeds, into one run folder: a PyOD model sees flattened pixels in [0, 1]
table = [advbench.evaluate(model, args.data, seeds=args.seeds, out=args.out) for model in (ECOD(), CentroidDistance())]
for frame in table:
    print(frame.groupby(["detector", "attack"])["value"].agg(["mean", "std"]).round(3))

# %% ROC curves of seed 0, from the scores the run folder stores
fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
for ax, name in zip(axes, ("ECOD", "CentroidDistance"), strict=True):
    scores = np.load(Path(args.out) / "scores" / name / "seed-0.npz")
    for attack in bench.attacks:
        adversarial = scores[f"attack:{attack}"]
        labels = np.r_[np.zeros(len(scores["normal_test"])), np.ones(len(adversarial))]
        false, true, _ = roc_curve(labels, np.r_[scores["normal_test"], adversarial])
        ax.plot(false, true, label=attack)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set(title=name, xlabel="false-positive rate (clean flagged)")
axes[0].set_ylabel("true-positive rate (adversarial flagged)")
axes[0].legend()
figure = Path(args.out) / "roc_curves.png"
fig.savefig(figure, dpi=120, bbox_inches="tight")
print(f"ROC curves in {figure}")
