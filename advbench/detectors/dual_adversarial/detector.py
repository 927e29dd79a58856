"""The dual-adversarial detector (Chen et al., "Latent Regularized Generative Dual Adversarial
Network for Abnormal Detection", sections 3.1-3.3 and 4.1) and its Table 1 ablations.

One class, three switches (``use_discriminator``, ``use_dual``, ``use_latent_regularizer``);
a part that is switched off is not built (no parameters) and adds no loss term.

Defaults from the paper (section 4.1): ``w_i = 1, w_a = 5, w_z = 1, w_e = 0.05, w_d = 1``,
``k = 0.4`` (fixed, no BEGAN-style adaptation), Adam with learning rate 0.002 (section 3.3),
training-set mean/std normalization, random-crop and horizontal-flip augmentation.

Choices where the paper is silent (ours):

- Architecture: see ``networks.py`` (32/64/128 channels, latent size 64). Decoders end in a
  sigmoid image in [0, 1] that is then standardized, so reconstructions are bounded.
- Adam's ``beta1 = 0.5`` (DCGAN's value for adversarial training; the paper gives only the rate).
- Training length per profile (``profiles.py``), ``batch_size = 64`` in both (13 batches per
  epoch on the 780 training stop signs; a last batch of one image is skipped, as batch
  normalization and the shuffled negatives need two):

  - ``default``: 15 epochs (195 updates per network), 2-6 s each on one CPU core, so one fit
    stays well under the 3-minute budget (``benchmarks/bench_dual_adversarial.py`` measures it);
  - ``reference``: until the training losses flatten, by a rule fixed before any AUC was seen
    (``training.flattened``): stop after the first epoch at which the mean of the last 10
    epochs of G's reconstruction loss ``irec`` (and of D''s ``dual_real``, the reconstruction
    the score goes through, when D' exists) is less than 1% below the mean of the 10 epochs
    before; at most 200 epochs. The paper gives no epoch count.
- Augmentation: pad ``crop_padding = 4`` pixels by reflection (no artificial black border that
  test images never have), crop a random window of the image's size, flip horizontally with
  probability 1/2 (one indexing operation per batch, no per-image loop).
  Flipping mirrors the text of a stop sign; the paper applies it, so it is on by default
  (``hflip=False`` turns it off).
- L_e (eq. 10-11) ``= mi_beta * (L_e_g + L_e_l) + kl_gamma * KL`` with ``mi_beta = kl_gamma = 1``;
  the KL term is summed over latent dimensions (see ``losses.py``). The MI critic T sees the
  encoder's ``64 x 8 x 8`` middle feature map and the sampled ``z``. Negatives come from rolling
  the shuffled batch by one position (a derangement): the global critic pairs image ``i`` with
  ``z`` of image ``i+1``; the local critic pairs the feature map of image ``i+1`` with ``z`` of
  image ``i``.
- L_zrec (eq. 4) is the Euclidean distance between the latent means ``G_e(x)`` and ``G'_e(G(x))``.
  It trains G only (``zrec_trains_auxiliary=False``): section 3.1 calls ``z' = G'_e(G(x))`` "the
  anchor to prevent z from drifting", and an anchor that is also pulled towards ``z`` stops being
  one; section 3.3's sentence that G and D' are trained on all the losses is satisfied by D'
  training on L_dual. ``zrec_trains_auxiliary=True`` adds ``w_z L_zrec`` (with ``G_e(x)``
  detached) to D''s loss.
- ``reduction = "sum"``: the norms of eqs. (3)-(6) as written, per-image sums over pixels
  (``losses.py``), chosen on training curves and gradient shares of the 780 real training stop
  signs (seed 0, 15 epochs, one CPU thread; ``history_`` columns ``grad_*``), never on test AUC.
  Share of G's gradient norm per weighted term (term / total, range over the 15 epochs):

  ========= ============== ============== ============== ============== ==============
  reduction w_i L_irec     w_a L_adv      w_z L_zrec     w_d L_dual     w_e L_e
  ========= ============== ============== ============== ============== ==============
  sum       0.49 - 0.64    0.02 - 0.15    0.007 - 0.020  0.54 - 0.89    0.002 - 0.044
  mean      0.007 - 0.019  0.96 - 0.99    0.04 - 0.33    0.01 - 0.09    0.002 - 0.024
  ========= ============== ============== ============== ============== ==============

  With ``"sum"`` every term acts and G learns to reconstruct (``irec`` 2,470 -> 1,337 per
  image). With ``"mean"`` (PyTorch's default reduction) the adversarial term carries 96-99% of
  G's gradient and ``irec`` does not fall (0.89 -> 0.94 per pixel). Why, measured the same way:
  the single autoencoder alone learns with ``"mean"`` (``irec`` 0.71 -> 0.32 per pixel), so
  neither the sigmoid-then-standardize output nor Adam's settings prevent it; adding D
  (``ablation-single-ae-d``) puts 99.8-100% of G's gradient on ``w_a L_adv`` and ``irec`` rises
  0.89 -> 1.01, while D's loss stays near ``2 log 2 = 1.39`` (1.06-1.69): D is not winning, its
  gradient simply swamps a reconstruction gradient that the per-pixel mean divides by 3,072.
  Adam's ``beta1 = 0.9`` does not help (``irec`` 0.91 -> 1.04, adv share 0.96-1.00, D wins:
  loss 0.05-0.66); a ten times smaller rate (2e-4) lets ``irec`` creep down (0.94 -> 0.73) with
  the adversarial share unchanged (0.996-1.00). ``reduction="mean"`` stays available.
- D''s batch normalization: D' runs in train mode on real batches and on generated ones, so its
  running statistics mix both. After training they are recomputed on the real, un-augmented
  training images (one pass, cumulative average), so that at scoring time D' normalizes as for
  the real images it was trained to reconstruct; G only ever sees real images.
- The generator's share of the dual loss: the paper trains G and D' on ``L_dual`` (section 3.3)
  but writes eq. (6) for D' only. As in BEGAN (Berthelot et al., 2017), D' minimizes
  ``L_dual`` and G minimizes ``||G(x) - D'(G(x))||_1`` (its outputs should be reconstructed well
  by D', as real images are), weighted by ``w_d``.

Readings of the paper (parameters; the defaults above are the literal reading). Each names the
sentence of the paper it reads; ``reports/dual-readings/`` compares them:

- ``input_scaling``: "normalization (subtracted and divided sequentially by mean and standard
  deviation of the training images)" (section 4.1) is ``"standard"``; ``"gcn-minmax"`` is
  Deep SVDD's input space (L1 global contrast normalization, then min-max scaling to [0, 1] on
  the training images; ``preprocessing.py``), the baselines' preprocessing. The decoders' sigmoid
  image is then already in the input space.
- ``dprime_bn``: "s = ||x - G'_d(G'_e(G(x)))||_1" (section 4.1) passes G(x), not x, through D',
  while D' is trained "to reconstruct the realistic inputs x faithfully while fail to do so for
  generated input G(x)" (section 3.1). Its batch-norm statistics after training come from the
  real training images (``"x"``, the default, see above), from G's reconstructions of them
  (``"gx"``, the inputs of the score), or from the training batches as they were (``"training"``).
- ``latent_sampling``: eq. (11) takes ``(x, z) ~ p(z|x)p(x)``, so z is sampled from the
  variational encoder (``True``); the text calls z "the input image and corresponding latent
  feature", which reads as the deterministic mean (``False``: G decodes, and T sees, the mean;
  the KL term stays).
- ``k_update``: "k controls how much emphasis is put on the pixel-wise error of generated input
  L_direc during gradient descent" (section 3.1) is BEGAN's sentence for its adaptive ``k_t``
  (Berthelot et al., 2017); "the parameter k is set to 0.4" (section 4.1) is the fixed reading
  (``"fixed"``). ``"began"`` starts at ``k`` and follows BEGAN's proportional control with
  balance ``began_gamma`` and rate ``began_lambda`` (BEGAN: gamma in {0.3, 0.5, 0.7}, lambda_k =
  0.001, k_0 = 0) per batch (``training.began_balance``); ``history_["k"]`` records it.
- ``lr_schedule``: "set the initialized learning rate as 0.002" (section 3.3) implies a rate that
  changes; the paper names no schedule. ``"constant"`` (default), ``"linear"`` decay to 0 or
  ``"cosine"`` annealing over the profile's epochs (its largest number under the reference
  profile's stopping rule), stepped once per epoch for every optimizer; ``history_["lr"]`` records it.
- ``reduction = "mean"`` with re-balanced weights, e.g. GANomaly's ``w_i = 50`` (Akcay et al.,
  2018) for the reconstruction: the paper's weights "are empirically chosen to yield optimum
  results" (section 4.1) on an unstated scale.

The readings that other parameters already give: no augmentation (``crop_padding = 0``,
``hflip = False``), ``w_d = 0`` and ``zrec_trains_auxiliary = True``.

Update order per batch (``x`` is the augmented, standardized batch):

0. G forward once: ``G(x)`` from ``z = mean + exp(logvar/2) * eps`` (the mean only when the
   encoder is not variational).
1. D step (if ``use_discriminator``): Adam on D's parameters only, loss
   ``BCE(D(x), 1) + BCE(D(G(x).detach()), 0)``.
2. D' step (if ``use_dual``): Adam on D' (G'_e and G'_d) only, loss
   ``L_dual = ||x - D'(x)||_1 - k ||G(x).detach() - D'(G(x).detach())||_1``.
3. G step: Adam on G (G_e, G_d) and T together, loss
   ``w_i L_irec + w_a BCE(D(G(x)), 1) + w_z L_zrec + w_d ||G(x) - D'(G(x))||_1 + w_e L_e``,
   with D and D' (as just updated) frozen: their parameters get no gradient from this step (so
   L_zrec trains only G's encoder and, through ``G(x)``, G; not G'_e), but the gradient flows
   through them into ``G(x)``. T is trained jointly with the encoder on L_e, both minimizing it.

Anomaly score (section 4.1): ``s(x) = ||x - D'(G(x))||_1``, summed over the pixels of the standardized,
un-augmented image, in eval mode without gradient; the encoders use the latent mean (no
sampling). Without D' (``use_dual=False``) the score is the generator's own reconstruction
error ``||x - G(x)||_1``, the natural score of a single autoencoder.

Score variants (``score_variants``, the contract in ``base.py``): besides that score, named
``paper`` (it is ``decision_function``), the same fit gives the other distances the paper's
networks define, each in the space the score uses (standardized, un-augmented images, eval mode,
encoders on their means, no gradient), from one pass of G, D' and D over each batch:

- ``g``: ``||x - G(x)||_1``, the generator's reconstruction error (the L_irec term of eq. 3 per
  image); for the presets without D' it is their ``paper`` score itself;
- ``dprime-x``: ``||x - D'(x)||_1``, D''s reconstruction of the image itself (the real term of
  L_dual, eq. 5-6);
- ``dprime-gx``: ``||G(x) - D'(G(x))||_1``, D''s reconstruction of G's output (the fake term of
  L_dual, eq. 5-6);
- ``latent``: the L_zrec distance of eq. (4) per image, ``||G_e(x) - G'_e(G(x))||_2`` between the
  latent means (``losses.latent_distance``: the root mean square with ``reduction="mean"``);
- ``discriminator``: minus D's logit on ``x``. D is trained to give the real training images a high
  logit (label 1 in eq. 2) and G's reconstructions a low one (label 0), so an image that D finds
  unlike the real normal images scores high: higher = more anomalous.

A preset gets the variants of the parts it builds (``VARIANTS``): no D' (``use_dual=False``), no
``dprime-x``, ``dprime-gx``, ``latent``; no D (``use_discriminator=False``), no ``discriminator``.
Scoring all of them costs one more D' pass and one D pass per batch than ``paper`` alone
(``benchmarks/bench_score_variants.py`` measures the ratio).

``history_`` holds one dict per epoch with the epoch's mean losses: ``loss_g`` (the G step's
total), ``loss_d`` (D), ``loss_dprime`` (``L_dual``), ``mi_estimate`` (global JS estimate of
I(X; Z), ``log 4 - L_e_g``, 0 at chance) and the components ``irec``, ``adv``, ``zrec``,
``dual_real``, ``dual_fake``, ``kl``, ``mi_local``; the norms of the gradients that the weighted
terms of eq. (1) send into G's parameters, ``grad_irec`` (``w_i L_irec``), ``grad_adv``,
``grad_zrec``, ``grad_dual`` (``w_d`` times G's side of L_dual), ``grad_e`` (``w_e L_e``) and
``grad_total`` (the norm of the whole G loss's gradient: the terms' gradients partly cancel, so
their shares of it need not add up to 1), each the mean over the first ``grad_batches`` batches of the epoch;
plus ``time_s``. Terms of switched-off parts are NaN. ``pandas.DataFrame(det.history_)`` gives
the table behind the paper's Figure 4.
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
    """

    differentiable = True
    #: Training schedule per profile (``profiles.resolve``).
    schedules = SCHEDULES
    description = "Dual-adversarial autoencoder with MI latent regularizer (Chen et al.; the paper's method)"
    descriptions = {
        "dual-adversarial": description,
        "ablation-single-ae": "Ablation (Table 1 row 1): single autoencoder, L1 reconstruction only",
        "ablation-single-ae-d": "Ablation (Table 1 row 2): single autoencoder + image discriminator",
        "ablation-dual-ae-d": "Ablation (Table 1 row 3): dual autoencoder + discriminator, no MI/KL",
    }

    def __init__(
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
