"""LID, supervised (Ma et al., "Characterizing Adversarial Subspaces Using Local Intrinsic
Dimensionality", ICLR 2018): a logistic regression on the local intrinsic dimensionality of an image
in every layer of the victim, fitted on a training attack set (``supervised``).

The estimate is the paper's (``lid.lid_mle``): in each layer, the distances from the image's
activations to its ``k`` nearest neighbours among a minibatch of ``batch_size`` clean images, ``k =
20`` and minibatches of 100, the paper's MNIST setting. The paper estimates a clean image's LID
within its own minibatch and an adversarial image's against the clean minibatch it was made from.
Ours: every image, clean or adversarial, training or test, is estimated against the same
``batches`` minibatches of clean reference images (the victim's clean training data of every
class, shuffled with ``random_state``), and its LID in a layer is the mean over those minibatches;
so an image's features do not depend on the images scored with it. The layers are the victim's
ReLU outputs and its logits (``Victim.layer_outputs``), flattened. The unsupervised form, LID of the
last hidden layer alone with nothing fitted on adversarial images, is ``lid.LIDDetector``.
"""

from __future__ import annotations

import numpy as np
import torch

from advbench.detectors.autoencoder_training import to_tensor
from advbench.detectors.checks import check_int
from advbench.detectors.lid import mean_lid
from advbench.detectors.supervised import SupervisedDetector

#: Images per forward pass.
_CHUNK = 256


class SupervisedLIDDetector(SupervisedDetector):
    """Logistic regression on the LID of every victim layer, fitted on a training attack set.

    Parameters
    ----------
    k : int >= 2
        Nearest neighbours per estimate (20, the paper's MNIST setting).
    batch_size : int > k
        Clean images per minibatch (100, the paper's).
    batches : int >= 1
        Reference minibatches each image is estimated against (10; ours, see the module docstring).
    regression_cv : int >= 2
        Folds of the regression's cross-validation (5).
    random_state : int or None
        Which reference images make the minibatches, and the regression's folds.
    device : str
        Torch device of the victim's forward passes ("cpu" by default).

    Attributes
    ----------
    batches_ : list of tensors
        Per layer, the minibatches' activations (``batches x batch_size x features``, float32).
    """

    description = (
        "LID (Ma et al. 2018): logistic regression on every victim layer's LID, fitted on a training attack set"
    )
    needs_reference = True

    def __init__(
        self, k: int = 20, batch_size: int = 100, batches: int = 10, regression_cv: int = 5, random_state=None,
        device: str = "cpu",
    ):  # fmt: skip
        self.k = k
        self.batch_size = batch_size
        self.batches = batches
        self.regression_cv = regression_cv
        self.random_state = random_state
        self.device = device

    def _check_params(self):
        check_int("k", self.k, low=2)
        check_int("batch_size", self.batch_size, low=self.k + 1)
        check_int("batches", self.batches, low=1)
        super()._check_params()

    def _layers(self, x: torch.Tensor) -> list[torch.Tensor]:
        with torch.no_grad():
            return [out.flatten(1).float() for out in self.victim_.layer_outputs(x)]

    def _fit_victim(self, X, reference):
        count = min(self.batches, len(reference.images) // self.batch_size)
        if count < 1:
            raise ValueError(
                f"LID: the reference sample holds {len(reference.images)} images, fewer than batch_size "
                f"{self.batch_size}"
            )
        rows = np.random.default_rng(self.random_state).permutation(len(reference.images))[: count * self.batch_size]
        images = to_tensor(reference.images[rows].astype(np.float32) / 255.0, self.device_)
        chunks = [self._layers(images[i : i + _CHUNK]) for i in range(0, len(images), _CHUNK)]
        self.batches_ = [torch.cat(layer).reshape(count, self.batch_size, -1) for layer in zip(*chunks, strict=True)]

    def _features(self, X):
        x = self._inputs(X)
        found = []
        for start in range(0, len(x), _CHUNK):
            layers = self._layers(x[start : start + _CHUNK])
            columns = [
                mean_lid(out, minibatches, self.k) for out, minibatches in zip(layers, self.batches_, strict=True)
            ]
            found.append(torch.stack(columns, dim=1))
        return torch.cat(found).cpu().numpy()
