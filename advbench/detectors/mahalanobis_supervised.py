"""Deep Mahalanobis, supervised (Lee, Lee, Lee and Shin, "A Simple Unified Framework for Detecting
Out-of-Distribution Samples and Adversarial Attacks", NeurIPS 2018): the Mahalanobis confidence score
of every layer of the victim, after the paper's input preprocessing, weighed by a logistic
regression fitted on a training attack set (``supervised``).

Per layer: the victim's activations, a convolutional layer's averaged over its spatial positions
(the paper's code), class means and one covariance shared by the classes over the reference
images (the victim's clean training data of every class), estimated by scikit-learn's
``EmpiricalCovariance`` as in ``victim_mahalanobis``. The layer's confidence score of an image
``x`` is ``M(x) = max_c -(f(x) - mu_c)^T Sigma^-1 (f(x) - mu_c)`` at the preprocessed input
``x - eps sign(grad_x d(x))``, ``d`` the distance to the closest class (the paper's equation 4).
The noise magnitude ``eps`` comes from the paper code's list (``MAGNITUDES``), chosen as the one
whose regression has the highest cross-validated AUC on the training attack set (folds as the
regression's); the paper chose it on validation adversarial examples. Nothing here is chosen on a
test attack set. The layers are the victim's ReLU outputs (``Victim.layer_outputs``, logits left
out). The unsupervised form, the last hidden layer without preprocessing or regression, is
``victim_mahalanobis``.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.model_selection import cross_val_score

from advbench.detectors.autoencoder_training import to_tensor
from advbench.detectors.checks import check_list, check_number
from advbench.detectors.supervised import SupervisedDetector, folds, regression, sklearn_notices_off
from advbench.detectors.victim_mahalanobis import squared_distances, tied_gaussians

#: The input-noise magnitudes of the paper's code (``ADV_Samples.py`` / ``OOD_Generate_Mahalanobis.py``).
MAGNITUDES = (0.0, 0.0005, 0.001, 0.0014, 0.002, 0.005, 0.01)
#: Images per forward pass.
_CHUNK = 256


def pooled(activations: torch.Tensor) -> torch.Tensor:
    """A layer's activations per image: a convolutional layer's averaged over its positions."""
    return activations.flatten(2).mean(dim=2) if activations.dim() == 4 else activations


class SupervisedMahalanobisDetector(SupervisedDetector):
    """Logistic regression on every victim layer's Mahalanobis confidence, fitted on a training attack set.

    Parameters
    ----------
    magnitudes : list of float >= 0 or None
        Candidate input-noise magnitudes (None: ``MAGNITUDES``); one value skips the choice.
    regression_cv : int >= 2
        Folds of the regression's and the magnitude's cross-validation (5).
    random_state : int or None
        The folds.
    device : str
        Torch device of the victim's forward passes ("cpu" by default).

    Attributes
    ----------
    magnitude_ : float
        The input-noise magnitude chosen. ``cv_auc_``: per candidate, its cross-validated AUC.
    means_, precisions_ : lists of tensors
        Per layer, the class means and the shared precision matrix (float64).
    """

    description = "Deep Mahalanobis (Lee et al. 2018): every layer, input noise, regression on a training attack set"
    needs_reference = True

    def __init__(self, magnitudes=None, regression_cv: int = 5, random_state=None, device: str = "cpu"):
        self.magnitudes = magnitudes
        self.regression_cv = regression_cv
        self.random_state = random_state
        self.device = device

    def _check_params(self):
        if self.magnitudes is not None:
            check_list("magnitudes", self.magnitudes, "numbers >= 0", lambda v: check_number("magnitudes", v, low=0.0))
        super()._check_params()

    def _layers(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [pooled(out).double() for out in self.victim_.layer_outputs(x)[:-1]]

    def _fit_victim(self, X, reference):
        images = to_tensor(reference.images.astype(np.float32) / 255.0, self.device_)
        with torch.no_grad():
            chunks = [self._layers(images[i : i + _CHUNK]) for i in range(0, len(images), _CHUNK)]
        labels = np.asarray(reference.labels)
        self.means_, self.precisions_ = [], []
        for layer in zip(*chunks, strict=True):
            _, means, precision = tied_gaussians(torch.cat(layer).cpu().numpy(), labels)
            self.means_.append(torch.from_numpy(means).to(self.device_))
            self.precisions_.append(torch.from_numpy(precision).to(self.device_))

    def _closest(self, features: torch.Tensor, layer: int) -> torch.Tensor:
        """Each image's squared distance to the closest class mean, from its ``layer`` activations."""
        return squared_distances(features, self.means_[layer], self.precisions_[layer]).amin(dim=1)

    def _distances(self, x: torch.Tensor, layer: int) -> torch.Tensor:
        """Each image's squared distance to the closest class mean in ``layer``."""
        return self._closest(self._layers(x)[layer], layer)

    def _confidences(self, X: np.ndarray, magnitude: float) -> np.ndarray:
        """``N x layers``: each layer's confidence score at the input preprocessed with ``magnitude``."""
        x = self._inputs(X)
        found = []
        for start in range(0, len(x), _CHUNK):
            chunk = x[start : start + _CHUNK]
            if magnitude == 0:  # no preprocessing: one forward pass gives every layer
                with torch.no_grad():
                    layers = self._layers(chunk)
                found.append(torch.stack([-self._closest(f, n) for n, f in enumerate(layers)], dim=1))
                continue
            columns = []
            for layer in range(len(self.means_)):
                probe = chunk.clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(self._distances(probe, layer).sum(), probe)
                moved = chunk - magnitude * grad.sign()
                with torch.no_grad():
                    columns.append(-self._distances(moved, layer))
            found.append(torch.stack(columns, dim=1))
        return torch.cat(found).cpu().numpy()

    def _training_features(self, clean, attacked, labels):
        grid = [float(v) for v in (MAGNITUDES if self.magnitudes is None else self.magnitudes)]
        candidates = [np.concatenate([self._confidences(clean, m), self._confidences(attacked, m)]) for m in grid]
        self.cv_auc_ = None
        best = 0
        if len(grid) > 1:
            self.cv_auc_ = [self._cv_auc(features, labels) for features in candidates]
            best = int(np.argmax(self.cv_auc_))
        self.magnitude_ = grid[best]
        return candidates[best]

    def _cv_auc(self, features: np.ndarray, labels: np.ndarray) -> float:
        """The cross-validated AUC of the regression on ``features`` of the training attack set."""
        model = regression(self.regression_cv, self.random_state)
        with sklearn_notices_off():
            found = cross_val_score(
                model, features, labels, cv=folds(self.regression_cv, self.random_state), scoring="roc_auc"
            )
        return float(found.mean())

    def _features(self, X):
        return self._confidences(X, self.magnitude_)
