"""Deep SVDD, one-class and soft-boundary (Ruff et al., "Deep One-Class Classification", ICML 2018).

A bias-free LeNet-type encoder (``lenet.py``, the reference's network for the input's shape) maps images close
to a centre ``c``. Steps, as in the reference code (lukasruff/Deep-SVDD-PyTorch):

1. pretrain the encoder as part of an autoencoder (``autoencoder_training.py``);
2. ``c`` = mean code of the training images from the pretrained encoder in eval mode, with
   coordinates closer to zero than ``eps = 0.1`` pushed to ``+-eps`` (a zero coordinate is
   trivially reachable by zero weights);
3. train the encoder with Adam: one-class objective ``mean ||phi(x) - c||^2``; soft-boundary
   objective ``R^2 + (1/nu) mean max(0, ||phi(x) - c||^2 - R^2)`` with ``R`` solved after
   every epoch past ``warm_up_epochs`` as the ``(1 - nu)``-quantile of the distances of all
   training images (computed in eval mode), the exact line-search solution of the paper's
   Section 3 update "every k epochs" with k = 1 (the PyTorch reference uses each batch's quantile).

Score: ``||phi(x) - c||^2`` (one-class) or ``||phi(x) - c||^2 - R^2`` (soft-boundary).

Fixed choices and their sources: ``nu = 0.1`` (the reference's default and the paper's larger
setting); weight decay 1e-6 for both phases (the paper's lambda, ``--C 1e6`` in
``scripts/gtsrb_svdd.sh`` of lukasruff/Deep-SVDD); 10 warm-up epochs before ``R`` is updated
(PyTorch reference) -- capped here at half the training epochs; preprocessing: train min-max,
no GCN (the GTSRB scripts, ``--gcn 0``).

Training schedule per profile (``profiles.py``):

- ``reference``: the encoder starts from the DCAE of the reference profile (350 epochs, Adam
  1e-4 divided by 10 after epoch 250, batch 64: ``scripts/gtsrb_cae.sh``, whose weights
  ``scripts/gtsrb_svdd.sh`` loads with ``--pretrain 0 --in_name``), then Deep SVDD trains 150
  epochs at 1e-4 divided by 10 after epoch 50 with batch 64 (``scripts/gtsrb_svdd.sh``:
  ``--lr_drop_in_epoch 50 --lr_drop_factor 10 --batch_size 64``; 150 epochs and 1e-4 are the
  values of the repository's own Deep SVDD runs, ``experiments/mnist_svdd_exp_seeds.sh``, as no
  GTSRB invocation is published);
- ``default``: pretrain 6 and train 10 epochs at Adam's default rate 1e-3, no drop, batch 200,
  to fit a 60 s fit+score budget on 780 images and one CPU core.
"""

from __future__ import annotations

import torch

from advbench.detectors.autoencoder_detector import LeNetAutoencoderDetector
from advbench.detectors.autoencoder_training import Training, adam, current_lr, train_reconstruction
from advbench.detectors.checks import check_choice, check_int, check_number
from advbench.detectors.dcae import SCHEDULES as DCAE_SCHEDULES
from advbench.torch_utils import batched_apply, check_finite, evaluating, minibatches

OBJECTIVES = ("one-class", "soft-boundary")
CENTRE_EPS = 0.1

#: Training schedule per profile (sources in the module docstring); pretraining as DCAE's.
SCHEDULES = {
    "default": {
        "ae_epochs": 6,
        "ae_lr": 1e-3,
        "ae_lr_milestones": (),
        "epochs": 10,
        "lr": 1e-3,
        "lr_milestones": (),
        "batch_size": 200,
    },
    "reference": {
        "ae_epochs": DCAE_SCHEDULES["reference"]["epochs"],
        "ae_lr": DCAE_SCHEDULES["reference"]["lr"],
        "ae_lr_milestones": DCAE_SCHEDULES["reference"]["lr_milestones"],
        "epochs": 150,
        "lr": 1e-4,
        "lr_milestones": (50,),
        "batch_size": 64,
    },
}


class DeepSVDDDetector(LeNetAutoencoderDetector):
    """Deep SVDD with the LeNet-type encoder; see the module docstring for the method and defaults.

    Parameters
    ----------
    objective : {"one-class", "soft-boundary"}
    nu : float
        Soft-boundary trade-off in (0, 1] (fraction of training images allowed outside the sphere).
    rep_dim : int
        Code size (32, the reference's ``gtsrb_rep_dim`` and MNIST ``rep_dim``).
    pretrain : bool
        Initialize the encoder from an autoencoder trained for ``ae_epochs`` at ``ae_lr``.
    profile : {"default", "reference"}
        Where ``None`` schedule parameters take their values (``SCHEDULES``).
    ae_epochs, ae_lr, ae_lr_milestones, epochs, lr, lr_milestones, batch_size :
        Pretraining and Deep SVDD schedules; ``None`` takes the profile's value.
    weight_decay, warm_up_epochs :
        Adam's L2 penalty (1e-6) and epochs before ``R`` is first solved (10).
    gcn, scaling :
        Preprocessing, see ``ImagePreprocessor``.
    random_state : int or None
        Seeds weights and mini-batch order.
    device : str
        Torch device ("cpu" by default for bit-identical reruns).

    Attributes
    ----------
    schedule_ : dict
        The schedule used (the profile's values with explicit parameters applied).
    c_ : tensor, R_ : float
        Centre and radius (``R_`` stays 0 for the one-class objective).
    history_ : dict
        ``{"ae_loss": [...], "ae_lr": [...], "svdd_loss": [...], "lr": [...], "radius": [...]}``, one value
        per epoch: pretraining's loss and learning rate, then Deep SVDD's, and the radius.
    """

    description = "Deep SVDD (Ruff et al. 2018), AE-pretrained LeNet encoder; squared distance to centre"
    schedules = SCHEDULES

    def __init__(  # noqa: PLR0913 -- a constructor: hyperparameters
        self,
        objective: str = "one-class",
        nu: float = 0.1,
        rep_dim: int = 32,
        pretrain: bool = True,
        profile: str = "default",
        epochs: int | None = None,
        lr: float | None = None,
        lr_milestones=None,
        ae_epochs: int | None = None,
        ae_lr: float | None = None,
        ae_lr_milestones=None,
        batch_size: int | None = None,
        weight_decay: float = 1e-6,
        warm_up_epochs: int = 10,
        gcn: bool = False,
        scaling="minmax",
        random_state=None,
        device: str = "cpu",
    ):
        self.objective = objective
        self.nu = nu
        self.rep_dim = rep_dim
        self.pretrain = pretrain
        self.profile = profile
        self.epochs = epochs
        self.lr = lr
        self.lr_milestones = lr_milestones
        self.ae_epochs = ae_epochs
        self.ae_lr = ae_lr
        self.ae_lr_milestones = ae_lr_milestones
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.warm_up_epochs = warm_up_epochs
        self.gcn = gcn
        self.scaling = scaling
        self.random_state = random_state
        self.device = device

    def _check_params(self):
        check_choice("objective", self.objective, OBJECTIVES)
        check_number("nu", self.nu, low_open=True, high=1.0)
        check_choice("pretrain", self.pretrain, (False, True))
        check_int("warm_up_epochs", self.warm_up_epochs, low=0)
        super()._check_params()

    def _train_autoencoder(self, autoencoder, inputs, generator):
        schedule = self.schedule_
        self.history_ = {"ae_loss": [], "ae_lr": [], "svdd_loss": [], "lr": [], "radius": []}
        if self.pretrain:
            optimizer, scheduler = adam(
                autoencoder.parameters(), schedule["ae_lr"], self.weight_decay, schedule["ae_lr_milestones"]
            )
            training = Training(
                optimizer, generator, schedule["batch_size"], "Deep SVDD pretraining", scheduler, self.history_["ae_lr"]
            )
            self.history_["ae_loss"] = train_reconstruction(
                autoencoder, inputs, inputs, training, schedule["ae_epochs"]
            )
        self.net_ = autoencoder.encoder
        self.c_ = self._initial_centre(inputs)
        self.R_ = 0.0
        self._train(inputs, generator, schedule)

    def _initial_centre(self, inputs):
        with evaluating(self.net_):
            c = batched_apply(self.net_, inputs).mean(dim=0)
        near_zero = c.abs() < CENTRE_EPS
        return torch.where(near_zero & (c < 0), -CENTRE_EPS, torch.where(near_zero, CENTRE_EPS, c))

    def _train(self, inputs, generator, schedule):
        soft = self.objective == "soft-boundary"
        warm_up = min(self.warm_up_epochs, schedule["epochs"] // 2)
        optimizer, scheduler = adam(
            self.net_.parameters(), schedule["lr"], self.weight_decay, schedule["lr_milestones"]
        )
        self.net_.train()
        for epoch in range(schedule["epochs"]):
            self.history_["lr"].append(current_lr(optimizer))
            total = 0.0
            for index in minibatches(inputs.shape[0], schedule["batch_size"], generator):
                optimizer.zero_grad()
                dist = ((self.net_(inputs[index]) - self.c_) ** 2).sum(dim=1)
                loss = self.R_**2 + torch.relu(dist - self.R_**2).mean() / self.nu if soft else dist.mean()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(index)
            self.history_["svdd_loss"].append(check_finite(total / inputs.shape[0], "Deep SVDD", epoch))
            scheduler.step()
            if soft and epoch >= warm_up:
                self.R_ = float(torch.quantile(self._distances(inputs).sqrt(), 1.0 - self.nu))
            self.history_["radius"].append(self.R_)

    def _distances(self, inputs):
        """Squared distance of each image's code to ``c``, in eval mode without gradients."""
        with evaluating(self.net_):
            return batched_apply(lambda x: ((self.net_(x) - self.c_) ** 2).sum(dim=1), inputs)

    def _score(self, X):
        return (self._distances(self._inputs(X)) - self.R_**2).cpu().numpy()

    def _score_tensor(self, x):
        codes = self.net_.eval()(self.preprocessor_.transform_tensor(x))
        return ((codes - self.c_) ** 2).sum(dim=1) - self.R_**2
