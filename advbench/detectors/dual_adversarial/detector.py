"""The dual-adversarial detector of Chen et al., "Latent Regularized Generative Dual Adversarial
Network for Abnormal Detection" (``../shared/paper/``, sections 3.1-3.3 and 4.1), and its Table 1
ablations: three switches (``use_discriminator``, ``use_dual``, ``use_latent_regularizer``); a part
switched off is not built and adds no loss term. Each batch updates D, then D', then G and T
(``training.TrainStep``). ``docs/dual-adversarial.md`` gives our choices at length, with their measurements.

Anomaly score (section 4.1): ``s(x) = ||x - D'(G(x))||_1`` over the pixels of the standardized,
un-augmented image (eval mode, no gradient, encoders on their means); without D', ``||x - G(x)||_1``.
Score variants of the same fit (``VARIANTS``: those of the parts a preset builds): ``g``
``||x - G(x)||_1``, ``dprime-x`` ``||x - D'(x)||_1``, ``dprime-gx`` ``||G(x) - D'(G(x))||_1``,
``latent`` eq. (4)'s distance of the latent means, ``discriminator`` minus D's logit on ``x``.

Defaults from the paper: ``w_i = 1, w_a = 5, w_z = 1, w_e = 0.05, w_d = 1``, ``k = 0.4`` (fixed;
section 4.1), Adam with learning rate 0.002 (section 3.3), training-set mean/std normalization,
random-crop and horizontal-flip augmentation. Ours, where the paper is silent:

- networks (``networks.py``): 32/64/128 channels, latent size 64, decoders ending in a sigmoid
  image in [0, 1] that is then standardized; Adam's ``beta1 = 0.5`` (DCGAN's); ``batch_size = 64``;
- training length (``SCHEDULES``): ``default`` 15 epochs, so one fit stays well under a 3-minute
  budget (``benchmarks/bench_dual_adversarial.py``); ``reference`` until the mean of G's ``irec`` (and
  D''s ``dual_real``) over the last 10 epochs is less than 1% below that of the 10 before
  (``training.flattened``, fixed before any AUC was seen), at most 200;
- augmentation: reflection padding ``crop_padding = 4``, a random crop of the image's size, a
  horizontal flip with probability 1/2 (``hflip=False`` turns it off);
- L_e (eq. 10-11) ``= mi_beta * (L_e_g + L_e_l) + kl_gamma * KL``, both 1; T sees the encoder's
  middle feature map and the sampled ``z``; negatives roll the shuffled batch by one position;
- L_zrec (eq. 4) trains G only (``zrec_trains_auxiliary=False``): section 3.1 calls
  ``z' = G'_e(G(x))`` "the anchor to prevent z from drifting";
- ``reduction = "sum"``: the norms of eqs. (3)-(6) as written (``losses.py``), chosen on training
  curves and G's gradient shares, never on test AUC;
- D''s batch-norm statistics are recomputed after training on the real, un-augmented training images;
- G minimizes ``w_d ||G(x) - D'(G(x))||_1``, its share of L_dual (section 3.3), as in BEGAN.

Readings of the paper (parameters; the defaults are the literal reading; ``reports/dual-readings/``
compares them), each with the sentence it reads:

- ``input_scaling``: "normalization (subtracted and divided sequentially by mean and standard
  deviation of the training images)" is ``"standard"``; ``"gcn-minmax"`` is Deep SVDD's input space;
- ``dprime_bn``: "s = ||x - G'_d(G'_e(G(x)))||_1" passes G(x) through D', trained "to reconstruct the
  realistic inputs x faithfully": statistics from ``"x"``, ``"gx"`` or the batches (``"training"``);
- ``latent_sampling``: eq. (11)'s ``(x, z) ~ p(z|x)p(x)`` samples z (``True``); "the input image and
  corresponding latent feature" reads as the mean (``False``);
- ``k_update``: "k controls how much emphasis is put on the pixel-wise error of generated input" is
  BEGAN's adaptive ``k_t`` (``"began"``); "the parameter k is set to 0.4" is ``"fixed"``;
- ``lr_schedule``: "set the initialized learning rate as 0.002" implies a rate that changes:
  ``"constant"``, ``"linear"`` or ``"cosine"``;
- ``reduction = "mean"`` with re-balanced weights (GANomaly's ``w_i = 50``): the weights "are
  empirically chosen to yield optimum results" on an unstated scale.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from advbench.detectors import profiles
from advbench.detectors.base import DEFAULT_VARIANT, BaseDetector, check_images
from advbench.detectors.checks import check_choice, check_int, check_number, check_random_state
from advbench.detectors.dual_adversarial import losses
from advbench.detectors.dual_adversarial.networks import AutoEncoder, Discriminator, Geometry, MIEstimator
from advbench.detectors.dual_adversarial.training import GRAD_KEYS, LOSS_KEYS, TrainStep, flattened
from advbench.detectors.preprocessing import ImagePreprocessor
from advbench.torch_utils import batched_apply, check_device, minibatches, resolve_device, seed_everything

_HISTORY_KEYS = LOSS_KEYS + GRAD_KEYS

#: Every score variant (see the module docstring) and the part it needs (None: G alone).
VARIANTS = {
    DEFAULT_VARIANT: None,
    "g": None,
    "dprime-x": "use_dual",
    "dprime-gx": "use_dual",
    "latent": "use_dual",
    "discriminator": "use_discriminator",
}

#: Input spaces (``input_scaling``): the ``ImagePreprocessor`` settings of each reading.
INPUT_SCALINGS = {
    "standard": {"gcn": False, "scaling": "standard"},
    "gcn-minmax": {"gcn": True, "scaling": "minmax"},
}
#: Images on which D''s batch-norm statistics are recomputed after training (``dprime_bn``);
#: ``"training"`` keeps the running statistics of the training batches.
DPRIME_BN_SOURCES = ("x", "gx", "training")
#: Learning-rate schedules over the profile's epochs (``lr_schedule``).
LR_SCHEDULES = ("constant", "linear", "cosine")

#: Training schedule per profile (see the module docstring): at most ``epochs`` epochs, stopped
#: earlier by ``training.flattened`` over ``stop_window`` epochs (0: never).
SCHEDULES = {
    "default": {"epochs": 15, "batch_size": 64, "stop_window": 0, "stop_tolerance": 0.0},
    "reference": {"epochs": 200, "batch_size": 64, "stop_window": 10, "stop_tolerance": 0.01},
}


def augment(x: torch.Tensor, padding: int, hflip: bool, generator: torch.Generator) -> torch.Tensor:
    """Random crop after reflection padding, and random horizontal flip, drawn from ``generator``."""
    n, _, h, w = x.shape
    if padding > 0:
        padded = torch.nn.functional.pad(x, (padding,) * 4, mode="reflect")
        offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=generator).to(x.device)
        rows = (offsets[:, 0, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (offsets[:, 1, None] + torch.arange(w, device=x.device))[:, None, None, :]
        batch = torch.arange(n, device=x.device)[:, None, None, None]
        x = padded[batch, torch.arange(x.shape[1], device=x.device)[None, :, None, None], rows, cols]
    if hflip:
        flip = (torch.rand(n, generator=generator) < 0.5).to(x.device)
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
    return x


class DualAdversarialDetector(BaseDetector):
    """Generative dual adversarial network with a latent regularizer (the paper's detector).

    Parameters
    ----------
    use_discriminator, use_dual, use_latent_regularizer : bool
        Build the image discriminator D; the auxiliary autoencoder D' (with L_zrec and L_dual);
        the variational encoder with KL and the mutual-information estimator T (L_e).
    profile : {"default", "reference"}
        Where ``None`` schedule parameters take their values (``SCHEDULES``).
    epochs, batch_size, stop_window, stop_tolerance :
        Training length (the most epochs), batch size and the stopping rule; ``None`` takes the
        profile's value (see the module docstring).
    reduction : {"mean", "sum"}
        Scale of the norms of eqs. (3)-(6) and of the KL term within an image (``losses.py``).
    zrec_trains_auxiliary : bool
        Whether L_zrec also trains D''s encoder G'_e (default False, see the module docstring).
    input_scaling : {"standard", "gcn-minmax"}
        Input space (paper: ``"standard"``; see "Readings" in the module docstring).
    dprime_bn : {"x", "gx", "training"}
        Images on which D''s batch-norm statistics are recomputed after training (ours: ``"x"``).
    latent_sampling : bool
        Sample z from the variational encoder during training (eq. 11: True) or use its mean.
    k_update : {"fixed", "began"}
        Fixed ``k`` (paper: 0.4) or BEGAN's adaptive ``k_t`` starting at ``k``.
    began_gamma, began_lambda : float
        BEGAN's balance gamma and rate lambda_k for ``k_update="began"`` (BEGAN: 0.5, 0.001).
    lr_schedule : {"constant", "linear", "cosine"}
        Per-epoch learning-rate schedule (ours: constant).
    grad_batches : int
        Batches per epoch on which the gradient norm of every term of eq. (1) is measured (2).
    lr : float
        Adam learning rate of all networks (paper: 0.002).
    adam_beta1 : float
        Adam's first-moment decay (ours: 0.5, as in DCGAN).
    latent_dim : int
        Size of z (ours: 64).
    channels : tuple of 3 ints
        Convolution widths of encoders and D (ours: 32, 64, 128).
    w_i, w_a, w_z, w_e, w_d, k : float
        Loss weights of eq. (1) and the dual-loss factor of eq. (6) (paper: 1, 5, 1, 0.05, 1, 0.4).
    mi_beta, kl_gamma : float
        beta and gamma of eq. (10)-(11) inside L_e (ours: 1, 1).
    crop_padding : int
        Reflection padding before the random crop to the image's size (ours: 4; 0 disables cropping).
    hflip : bool
        Random horizontal flips (paper: on).
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seed of weights, data order, augmentation and latent noise.

    Attributes
    ----------
    history_ : list of dict
        One dict per epoch with the epoch's mean losses: ``loss_g`` (the G step's total), ``loss_d``
        (D), ``loss_dprime`` (``L_dual``), ``mi_estimate`` (global JS estimate of I(X; Z),
        ``log 4 - L_e_g``, 0 at chance) and the components ``irec``, ``adv``, ``zrec``,
        ``dual_real``, ``dual_fake``, ``kl``, ``mi_local``; the norms of the gradients that the
        weighted terms of eq. (1) send into G's parameters, ``grad_irec`` (``w_i L_irec``),
        ``grad_adv``, ``grad_zrec``, ``grad_dual`` (``w_d`` times G's side of L_dual), ``grad_e``
        (``w_e L_e``) and ``grad_total`` (the norm of the whole G loss's gradient: the terms'
        gradients partly cancel, so their shares of it need not add up to 1), each the mean over the
        first ``grad_batches`` batches of the epoch; plus ``time_s``. Terms of switched-off parts are
        NaN. ``pandas.DataFrame(det.history_)`` gives the table behind the paper's Figure 4.
    """

    differentiable = True
    #: Training schedule per profile (``profiles.resolve``).
    schedules = SCHEDULES
    description = "Dual-adversarial autoencoder with MI latent regularizer (Chen et al.; the paper's method)"

    def __init__(  # noqa: PLR0913 -- a constructor: hyperparameters
        self,
        use_discriminator: bool = True,
        use_dual: bool = True,
        use_latent_regularizer: bool = True,
        profile: str = "default",
        epochs: int | None = None,
        batch_size: int | None = None,
        stop_window: int | None = None,
        stop_tolerance: float | None = None,
        reduction: str = "sum",
        zrec_trains_auxiliary: bool = False,
        input_scaling: str = "standard",
        dprime_bn: str = "x",
        latent_sampling: bool = True,
        k_update: str = "fixed",
        began_gamma: float = 0.5,
        began_lambda: float = 0.001,
        lr_schedule: str = "constant",
        grad_batches: int = 2,
        lr: float = 0.002,
        adam_beta1: float = 0.5,
        latent_dim: int = 64,
        channels: tuple[int, int, int] = (32, 64, 128),
        w_i: float = 1.0,
        w_a: float = 5.0,
        w_z: float = 1.0,
        w_e: float = 0.05,
        w_d: float = 1.0,
        k: float = 0.4,
        mi_beta: float = 1.0,
        kl_gamma: float = 1.0,
        crop_padding: int = 4,
        hflip: bool = True,
        device: str = "auto",
        random_state: int | None = None,
    ):
        self.use_discriminator = use_discriminator
        self.use_dual = use_dual
        self.use_latent_regularizer = use_latent_regularizer
        self.profile = profile
        self.epochs = epochs
        self.batch_size = batch_size
        self.stop_window = stop_window
        self.stop_tolerance = stop_tolerance
        self.reduction = reduction
        self.zrec_trains_auxiliary = zrec_trains_auxiliary
        self.input_scaling = input_scaling
        self.dprime_bn = dprime_bn
        self.latent_sampling = latent_sampling
        self.k_update = k_update
        self.began_gamma = began_gamma
        self.began_lambda = began_lambda
        self.lr_schedule = lr_schedule
        self.grad_batches = grad_batches
        self.lr = lr
        self.adam_beta1 = adam_beta1
        self.latent_dim = latent_dim
        self.channels = channels
        self.w_i = w_i
        self.w_a = w_a
        self.w_z = w_z
        self.w_e = w_e
        self.w_d = w_d
        self.k = k
        self.mi_beta = mi_beta
        self.kl_gamma = kl_gamma
        self.crop_padding = crop_padding
        self.hflip = hflip
        self.device = device
        self.random_state = random_state

    # ------------------------------------------------------------------ setup
    def _check_params(self) -> None:
        for name in (
            "use_discriminator",
            "use_dual",
            "use_latent_regularizer",
            "zrec_trains_auxiliary",
            "hflip",
            "latent_sampling",
        ):
            check_choice(name, getattr(self, name), (False, True))
        schedule = profiles.resolve(self, self.schedules)
        check_int("batch_size", schedule["batch_size"], low=2)
        check_int("epochs", schedule["epochs"])
        check_choice("reduction", self.reduction, losses.REDUCTIONS)
        check_choice("input_scaling", self.input_scaling, tuple(INPUT_SCALINGS))
        check_choice("dprime_bn", self.dprime_bn, DPRIME_BN_SOURCES)
        check_choice("k_update", self.k_update, ("fixed", "began"))
        check_number("began_gamma", self.began_gamma)
        check_number("began_lambda", self.began_lambda)
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_int("grad_batches", self.grad_batches, low=0)
        check_int("latent_dim", self.latent_dim)
        if len(self.channels) != 3:
            raise ValueError(f"channels must be three positive integers; got {self.channels!r}")
        for value in self.channels:
            check_int("channels", value)
        check_number("lr", self.lr, low_open=True)
        check_number("adam_beta1", self.adam_beta1, high=1.0, high_open=True)
        for name in ("w_i", "w_a", "w_z", "w_e", "w_d", "k", "mi_beta", "kl_gamma"):
            check_number(name, getattr(self, name))
        if self.k_update == "began":
            check_number("k", self.k, high=1.0)
        check_int("crop_padding", self.crop_padding, low=0)
        check_device(self.device)
        check_random_state(self.random_state)

    def _build(self, pixel_mean, pixel_std, geometry: Geometry) -> None:
        channels = tuple(int(c) for c in self.channels)
        latent = int(self.latent_dim)
        variational = bool(self.use_latent_regularizer)
        self.generator_ = AutoEncoder(latent, channels, variational, pixel_mean, pixel_std, geometry).to(self.device_)
        self.auxiliary_ = (
            AutoEncoder(latent, channels, False, pixel_mean, pixel_std, geometry).to(self.device_)
            if self.use_dual
            else None
        )
        self.discriminator_ = Discriminator(channels, geometry).to(self.device_) if self.use_discriminator else None
        self.mi_estimator_ = MIEstimator(latent, channels[1], geometry).to(self.device_) if variational else None

    def _networks(self) -> list[torch.nn.Module]:
        nets = (self.generator_, self.auxiliary_, self.discriminator_, self.mi_estimator_)
        return [net for net in nets if net is not None]

    def _adam(self, *nets: torch.nn.Module) -> torch.optim.Adam:
        params = [p for net in nets for p in net.parameters()]
        return torch.optim.Adam(params, lr=self.lr, betas=(self.adam_beta1, 0.999))

    # --------------------------------------------------------------- training
    def _fit(self, X: np.ndarray) -> None:
        geometry = Geometry.of(X.shape[1:])
        if self.crop_padding >= min(X.shape[2:]):
            raise ValueError(
                f"crop_padding must be smaller than the images' sides {X.shape[2:]}; got {self.crop_padding!r}"
            )
        if X.shape[0] < 2:
            raise ValueError("at least two training images are needed")
        self.schedule_ = schedule = profiles.resolve(self, self.schedules)
        generator = seed_everything(self.random_state)
        self.device_ = resolve_device(self.device)
        self.preprocessor_ = ImagePreprocessor(**INPUT_SCALINGS[self.input_scaling]).fit(X)
        self._build(*self._output_space(), geometry)
        data = torch.from_numpy(self.preprocessor_.transform(X)).to(self.device_)
        step = TrainStep(self, self._adam)
        schedulers = [self._lr_scheduler(opt, schedule["epochs"]) for opt in step.optimizers()]
        for net in self._networks():
            net.train()

        self.history_ = []
        for epoch in range(1, schedule["epochs"] + 1):
            lr = step.optimizers()[0].param_groups[0]["lr"]
            self.history_.append({**self._epoch(step, data, generator, epoch, schedule["batch_size"]), "lr": lr})
            for scheduler in schedulers:
                scheduler.step()
            if self._flattened(schedule):
                break
        self._recalibrate_auxiliary(data, schedule["batch_size"])
        for net in self._networks():
            net.eval()

    def _output_space(self) -> tuple:
        """Shift and scale that map a decoder's sigmoid image into the input space.

        With ``"standard"`` inputs the sigmoid image is a raw image in [0, 1], standardized like
        the inputs; with ``"gcn-minmax"`` the inputs are themselves scaled to [0, 1] on the
        training images, so the sigmoid image is already in their space.
        """
        if self.input_scaling == "standard":
            return self.preprocessor_.shift_, self.preprocessor_.scale_
        return np.zeros_like(self.preprocessor_.shift_), np.ones_like(self.preprocessor_.scale_)

    def _lr_scheduler(self, optimizer: torch.optim.Optimizer, epochs: int):
        """The per-epoch schedule of ``lr_schedule`` over the profile's (largest) number of epochs."""
        if self.lr_schedule == "linear":
            return torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, 0.0, total_iters=epochs)
        if self.lr_schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        return torch.optim.lr_scheduler.ConstantLR(optimizer, 1.0, total_iters=0)

    def _epoch(self, step: TrainStep, data: torch.Tensor, generator, epoch: int, batch_size: int) -> dict:
        """One shuffled pass over the training images; the epoch's record for ``history_``."""
        start = time.perf_counter()
        sums = dict.fromkeys(LOSS_KEYS, 0.0)
        grads: dict[str, list[float]] = {key: [] for key in GRAD_KEYS}
        seen = 0
        for batch, idx in enumerate(minibatches(data.shape[0], batch_size, generator)):
            if idx.numel() < 2:
                continue
            x = augment(data[idx.to(self.device_)], int(self.crop_padding), bool(self.hflip), generator)
            terms = step(x, generator, epoch, measure=batch < self.grad_batches)
            for key, value in terms.items():
                if key in grads:
                    grads[key].append(value)
                else:
                    sums[key] += value * x.shape[0]
            seen += x.shape[0]
        record = {"epoch": epoch}
        record.update({key: (sums[key] / seen if self._active(key) else math.nan) for key in LOSS_KEYS})
        record.update({key: (float(np.mean(values)) if values else math.nan) for key, values in grads.items()})
        record["time_s"] = time.perf_counter() - start
        return record

    def _flattened(self, schedule: dict) -> bool:
        """Whether every reconstruction loss the score depends on has stopped falling (``training.flattened``)."""
        keys = ("irec", "dual_real") if self.auxiliary_ is not None else ("irec",)
        return all(
            flattened([row[key] for row in self.history_], schedule["stop_window"], schedule["stop_tolerance"])
            for key in keys
        )

    @torch.no_grad()
    def _recalibrate_auxiliary(self, data: torch.Tensor, batch_size: int) -> None:
        """Recompute D''s batch-norm statistics on the images ``dprime_bn`` names.

        During training D' runs in train mode on real batches and on generated ones, so its
        running statistics mix both. ``"x"``: the real, un-augmented training images, which D'
        was trained to reconstruct; ``"gx"``: G's reconstructions of them, the inputs D' gets
        inside the paper's score; ``"training"``: keep the mixed statistics (see the module docstring).
        """
        if self.auxiliary_ is None or self.dprime_bn == "training":
            return
        if self.dprime_bn == "gx":
            self.generator_.eval()
            data = batched_apply(lambda batch: self.generator_(batch)[0], data, batch_size)
        norms = [m for m in self.auxiliary_.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        for module in norms:
            module.reset_running_stats()
            module.momentum = None  # cumulative average over the pass
        self.auxiliary_.train()
        for start in range(0, data.shape[0], batch_size):
            self.auxiliary_(data[start : start + batch_size])
        for module in norms:
            module.momentum = 0.1

    def _active(self, key: str) -> bool:
        """Whether a history column belongs to a part that this variant builds."""
        if key in ("loss_d", "adv", "grad_adv"):
            return self.use_discriminator
        if key in ("loss_dprime", "zrec", "dual_real", "dual_fake", "grad_zrec", "grad_dual", "k"):
            return self.use_dual
        if key in ("mi_estimate", "kl", "mi_local", "grad_e"):
            return self.use_latent_regularizer
        return True

    # ---------------------------------------------------------------- scoring
    def _standardized(self, X: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(self.preprocessor_.transform(X)).to(self.device_)

    def _reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``D'(G(x))`` (or ``G(x)`` without D'), encoders on their means."""
        recon = self.generator_(x)[0]
        return self.auxiliary_(recon)[0] if self.auxiliary_ is not None else recon

    def _score(self, X: np.ndarray) -> np.ndarray:
        x = self._standardized(X)
        scores = batched_apply(lambda batch: losses.per_image_l1(batch, self._reconstruct(batch)), x)
        return scores.cpu().numpy()

    def _score_tensor(self, x: torch.Tensor) -> torch.Tensor:
        x = self.preprocessor_.transform_tensor(x)
        return losses.per_image_l1(x, self._reconstruct(x))

    def _variant_names(self) -> tuple[str, ...]:
        return tuple(name for name, part in VARIANTS.items() if part is None or getattr(self, part))

    def _variants_of_batch(self, x: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
        """The score variants of one standardized batch, one column per name of ``names``.

        ``paper`` goes through exactly the operations of ``_score`` (``_reconstruct``), so it is
        bit for bit ``decision_function``.
        """
        recon, enc, _ = self.generator_(x)
        found = {"g": losses.per_image_l1(x, recon)}
        if self.auxiliary_ is not None:
            aux_recon, aux_enc, _ = self.auxiliary_(recon)
            found[DEFAULT_VARIANT] = losses.per_image_l1(x, aux_recon)
            found["dprime-x"] = losses.per_image_l1(x, self.auxiliary_(x)[0])
            found["dprime-gx"] = losses.per_image_l1(recon, aux_recon)
            found["latent"] = losses.latent_distance(enc.mean, aux_enc.mean, self.reduction)
        else:
            found[DEFAULT_VARIANT] = found["g"]
        if self.discriminator_ is not None:
            found["discriminator"] = -self.discriminator_(x)
        return torch.stack([found[name] for name in names], dim=1)

    def _score_variants(self, X: np.ndarray) -> dict[str, np.ndarray]:
        names = self._variant_names()
        table = batched_apply(lambda batch: self._variants_of_batch(batch, names), self._standardized(X))
        table = table.cpu().numpy()
        return {name: table[:, column] for column, name in enumerate(names)}

    @torch.no_grad()
    def mutual_information_logits(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Global critic logits ``T(x, z)`` for matching pairs and for pairs with ``z`` rolled by one.

        Evaluated in eval mode on un-augmented images (``z`` = latent mean). Only for a detector
        fitted with the latent regularizer.
        """
        if getattr(self, "mi_estimator_", None) is None:
            raise ValueError("mutual_information_logits needs a fitted detector with use_latent_regularizer=True")
        x = self._standardized(check_images(X))
        enc = self.generator_.encoder(x)
        positive = self.mi_estimator_.global_logits(enc.middle, enc.mean)
        negative = self.mi_estimator_.global_logits(enc.middle, torch.roll(enc.mean, 1, dims=0))
        return positive.cpu().numpy(), negative.cpu().numpy()
