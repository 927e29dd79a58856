"""Network invariant checking, fitted on clean images only (after Ma, Liu, Tao, Lee and Zhang, "NIC:
Detecting Adversarial Samples with Neural Network Invariant Checking", NDSS 2019).

NIC checks two kinds of invariants of the victim's layers on clean data, each with a one-class
model, and combines them: *value invariants* (VI), the distribution of each layer's activations
(one OC-SVM per layer), and *provenance invariants* (PI), how the prediction evolves from one layer
to the next (per layer a linear classifier, a standardized logistic regression, that predicts the victim's label
from that layer; one
OC-SVM per pair of consecutive layers on their two probability vectors). A last OC-SVM on the
standardized VI and PI decision values of the clean images gives the score: minus its decision
value, so an image that breaks the invariants scores high. The paper fits every model on clean
data, so it suits the suite's protocol; the layer classifiers need every class, so they are fitted
on the reference images (the victim's clean training data of every class, ``datasets.reference``,
labelled by the victim's predictions), and the OC-SVMs on the detector's training images.

What is ours: the layers are the outputs of the victim's ReLU modules and its logits; a
convolutional layer's activations are average-pooled to at most ``pool`` x ``pool`` cells per
channel, and every layer is reduced by PCA to ``components`` dimensions fitted on the training
images (the authors' code applies PCA to large layers; the pooling keeps the fit within a CPU's
memory); each OC-SVM (RBF kernel, ``gamma="scale"``, ``nu``) is fitted on at most ``max_samples``
training images, a seeded sample. Not differentiable as written (scikit-learn's models): the
detector-aware attacks treat it as a black box.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from advbench.detectors.base import check_images
from advbench.detectors.checks import check_int, check_number
from advbench.detectors.victim_detector import BATCH, VictimDetector


class NICDetector(VictimDetector):
    """Value and provenance invariants of the victim's layers, one-class models on clean data (see the module
    docstring).

    Parameters
    ----------
    components : int >= 1
        PCA dimensions per layer (at most the layer's size and the training images' count).
    pool : int >= 1
        Cells per side a convolutional layer is average-pooled to.
    nu : float in (0, 1]
        The OC-SVMs' bound on the share of training outliers (0.1).
    max_samples : int >= 2
        Training images per OC-SVM at most (a seeded sample).
    random_state : int or None
        Seeds the samples and the layer classifiers.
    device : str
        Torch device of the victim's forward passes ("cpu" by default).
    """

    description = "NIC (after Ma et al. 2019): value and provenance invariants of the victim's layers, clean data only"
    needs_reference = True
    differentiable = False

    def __init__(  # noqa: PLR0913 -- hyperparameters are keyword arguments
        self,
        components: int = 50,
        pool: int = 4,
        nu: float = 0.1,
        max_samples: int = 2000,
        random_state=None,
        device: str = "cpu",
    ):
        self.components = components
        self.pool = pool
        self.nu = nu
        self.max_samples = max_samples
        self.random_state = random_state
        self.device = device

    def _check_params(self):
        check_int("components", self.components, low=1)
        check_int("pool", self.pool, low=1)
        check_number("nu", self.nu, low=0.0, high=1.0, low_open=True)
        check_int("max_samples", self.max_samples, low=2)
        super()._check_params()

    def _layers(self, X: np.ndarray) -> list[np.ndarray]:
        """The victim's layers of ``X`` (float in [0, 1]), conv layers pooled, each flattened (float64)."""
        chunks: list[list[np.ndarray]] = []
        x = self._inputs(X)
        with torch.no_grad():
            for start in range(0, len(x), BATCH):
                outputs = self.victim_.layer_outputs(x[start : start + BATCH])
                pooled = [
                    F.adaptive_avg_pool2d(out, min(self.pool, out.shape[-1])) if out.dim() == 4 else out
                    for out in outputs
                ]
                chunks.append([out.flatten(1).double().cpu().numpy() for out in pooled])
        return [np.concatenate(layer) for layer in zip(*chunks, strict=True)]

    def _ocsvm(self, features: np.ndarray, rng: np.random.Generator) -> OneClassSVM:
        rows = rng.permutation(len(features))[: self.max_samples]
        return OneClassSVM(kernel="rbf", gamma="scale", nu=self.nu).fit(features[rows])

    def _fit_victim(self, X, reference):
        rng = np.random.default_rng(self.random_state)
        train = self._layers(X)
        self.pcas_ = [
            PCA(min(self.components, *layer.shape), random_state=self.random_state).fit(layer) for layer in train
        ]
        ref_layers = self._layers(check_images(reference.images, name="reference"))
        labels = ref_layers[-1].argmax(axis=1)  # the victim's predictions
        self.probes_ = [
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=self.random_state)).fit(
                pca.transform(layer), labels
            )
            for pca, layer in zip(self.pcas_, ref_layers, strict=True)
        ]
        reduced, provenance = self._invariant_inputs(train)
        self.value_svms_ = [self._ocsvm(layer, rng) for layer in reduced]
        self.provenance_svms_ = [self._ocsvm(pair, rng) for pair in provenance]
        values = self._invariant_values(reduced, provenance)
        self.scaler_ = StandardScaler().fit(values)
        self.final_ = self._ocsvm(self.scaler_.transform(values), rng)

    def _invariant_inputs(self, layers: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Each layer reduced by its PCA, and each pair of consecutive layers' label probabilities side by side."""
        reduced = [pca.transform(layer) for pca, layer in zip(self.pcas_, layers, strict=True)]
        probabilities = [probe.predict_proba(layer) for probe, layer in zip(self.probes_, reduced, strict=True)]
        return reduced, [np.hstack(pair) for pair in pairwise(probabilities)]

    def _invariant_values(self, reduced: list[np.ndarray], provenance: list[np.ndarray]) -> np.ndarray:
        """The VI and PI OC-SVMs' decision values, one column each."""
        columns = [svm.decision_function(layer) for svm, layer in zip(self.value_svms_, reduced, strict=True)]
        columns += [svm.decision_function(pair) for svm, pair in zip(self.provenance_svms_, provenance, strict=True)]
        return np.column_stack(columns)

    def _score(self, X):
        values = self._invariant_values(*self._invariant_inputs(self._layers(X)))
        return -self.final_.decision_function(self.scaler_.transform(values))
