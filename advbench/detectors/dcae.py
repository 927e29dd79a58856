"""Deep convolutional autoencoder (DCAE) baseline; score = squared reconstruction error.

The LeNet-type autoencoder of the Deep SVDD reference codes for the input's shape (``lenet.py``: the
GTSRB network for 3 x 32 x 32 images, the MNIST one for 1 x 28 x 28), trained
with Adam on the per-image sum of squared errors, as the DCAE baseline of Ruff et al. (ICML
2018). Fixed choices and their sources:

- preprocessing: pixels to [0, 1], then train min-max scaling, no GCN (``scripts/gtsrb_cae.sh``
  of lukasruff/Deep-SVDD: ``--gcn 0``);
- weight decay 1e-6 (the paper's lambda; ``--ae_C 1e6`` in the GTSRB script).

Training schedule per profile (``profiles.py``):

- ``reference``: 350 epochs of Adam, learning rate 1e-4 divided by 10 after epoch 250, batch
  size 64 -- Ruff et al. 2018, section 4.1 ("250 + 100 epochs", 1e-4 then 1e-5) and
  ``scripts/gtsrb_cae.sh`` (``--batch_size 64 --ae_lr_drop_in_epoch 250 --ae_lr_drop_factor 10``);
- ``default``: 10 epochs at Adam's default rate 1e-3, no drop, batch size 200 (the
  Deep-SVDD-PyTorch examples), to fit a 60 s fit+score budget on 780 images and one CPU core.
"""

from __future__ import annotations

from advbench.detectors.autoencoder_detector import ReconstructionErrorDetector
from advbench.detectors.autoencoder_training import Training, adam, train_reconstruction

#: Training schedule per profile (sources in the module docstring).
SCHEDULES = {
    "default": {"epochs": 10, "lr": 1e-3, "lr_milestones": (), "batch_size": 200},
    "reference": {"epochs": 350, "lr": 1e-4, "lr_milestones": (250,), "batch_size": 64},
}


class DCAEDetector(ReconstructionErrorDetector):
    """LeNet-type convolutional autoencoder; score = ``||x - AE(x)||^2`` on preprocessed pixels.

    Parameters
    ----------
    rep_dim : int
        Code size (32, the reference's ``gtsrb_rep_dim`` and MNIST ``rep_dim``).
    profile : {"default", "reference"}
        Where ``None`` schedule parameters take their values (``SCHEDULES``).
    epochs, lr, lr_milestones, batch_size :
        Adam schedule; ``None`` takes the profile's value.
    weight_decay : float
        Adam's L2 penalty (1e-6).
    gcn, scaling :
        Preprocessing, see ``ImagePreprocessor``.
    random_state : int or None
        Seeds weights and mini-batch order.
    device : str
        Torch device ("cpu" by default for bit-identical reruns; "auto" picks CUDA when present).

    Attributes
    ----------
    schedule_ : dict
        The schedule used (the profile's values with explicit parameters applied).
    history_ : dict
        ``{"ae_loss": [mean training loss per epoch], "lr": [learning rate of each epoch]}``.
    """

    description = "Deep convolutional autoencoder (LeNet-type, Deep SVDD's nets); reconstruction error"
    schedules = SCHEDULES

    def __init__(  # noqa: PLR0913 -- a constructor: hyperparameters
        self,
        rep_dim: int = 32,
        profile: str = "default",
        epochs: int | None = None,
        lr: float | None = None,
        lr_milestones=None,
        batch_size: int | None = None,
        weight_decay: float = 1e-6,
        gcn: bool = False,
        scaling="minmax",
        random_state=None,
        device: str = "cpu",
    ):
        self.rep_dim = rep_dim
        self.profile = profile
        self.epochs = epochs
        self.lr = lr
        self.lr_milestones = lr_milestones
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.gcn = gcn
        self.scaling = scaling
        self.random_state = random_state
        self.device = device

    def _train_autoencoder(self, autoencoder, inputs, generator):
        schedule = self.schedule_
        self.model_ = autoencoder
        optimizer, scheduler = adam(
            autoencoder.parameters(), schedule["lr"], self.weight_decay, schedule["lr_milestones"]
        )
        training = Training(optimizer, generator, schedule["batch_size"], "DCAE", scheduler)
        losses = train_reconstruction(autoencoder, inputs, inputs, training, schedule["epochs"])
        self.history_ = {"ae_loss": losses, "lr": training.lrs}
