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
- ``epochs = 15``, ``batch_size = 64``: 13 batches per epoch on the 780 training stop signs;
  15 epochs (195 updates per network) took 2-6 s each on two otherwise idle CPU cores, so one
  fit stays well under the 3-minute budget (``benchmarks/bench_dual_adversarial.py`` measures it). Fixed, never chosen on test data. A last batch of one
  image is skipped (batch normalization and the shuffled negatives need two).
- Augmentation: pad ``crop_padding = 4`` pixels by reflection (no artificial black border that
  test images never have), crop a random 32 x 32 window, flip horizontally with probability 1/2.
  Flipping mirrors the text of a stop sign; the paper applies it, so it is on by default
  (``hflip=False`` turns it off).
- L_e (eq. 10-11) ``= mi_beta * (L_e_g + L_e_l) + kl_gamma * KL`` with ``mi_beta = kl_gamma = 1``;
  the KL term is summed over latent dimensions (see ``losses.py``). The MI critic T sees the
  encoder's ``64 x 8 x 8`` middle feature map and the sampled ``z``. Negatives come from rolling
  the shuffled batch by one position (a derangement): the global critic pairs image ``i`` with
  ``z`` of image ``i+1``; the local critic pairs the feature map of image ``i+1`` with ``z`` of
  image ``i``.
- L_zrec (eq. 4) is the Euclidean distance between the latent means ``G_e(x)`` and ``G'_e(G(x))``.
- Norms are per-image norms as written (sums over pixels), averaged over the batch (``losses.py``).
- The generator's share of the dual loss: the paper trains G and D' on ``L_dual`` (section 3.3)
  but writes eq. (6) for D' only. As in BEGAN (Berthelot et al., 2017), D' minimizes
  ``L_dual`` and G minimizes ``||G(x) - D'(G(x))||_1`` (its outputs should be reconstructed well
  by D', as real images are), weighted by ``w_d``.

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

``history_`` holds one dict per epoch with the epoch's mean losses: ``loss_g`` (the G step's
total), ``loss_d`` (D), ``loss_dprime`` (``L_dual``), ``mi_estimate`` (global JS estimate of
I(X; Z), ``log 4 - L_e_g``, 0 at chance) and the components ``irec``, ``adv``, ``zrec``,
``dual_real``, ``dual_fake``, ``kl``, ``mi_local``, plus ``time_s``. Terms of switched-off parts
are NaN. ``pandas.DataFrame(det.history_)`` gives the table behind the paper's Figure 4.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from advbench.detectors.base import BaseDetector, check_images
from advbench.detectors.dual_adversarial import losses
from advbench.detectors.dual_adversarial.networks import AutoEncoder, Discriminator, MIEstimator
from advbench.detectors.preprocessing import ImagePreprocessor
from advbench.detectors.torch_utils import batched_apply, check_finite, minibatches, resolve_device, seed_everything

_HISTORY_KEYS = (
    "loss_g", "loss_d", "loss_dprime", "mi_estimate",
    "irec", "adv", "zrec", "dual_real", "dual_fake", "kl", "mi_local",
)  # fmt: skip


def augment(x: torch.Tensor, padding: int, hflip: bool, generator: torch.Generator) -> torch.Tensor:
    """Random crop after reflection padding, and random horizontal flip, drawn from ``generator``."""
    n, _, h, w = x.shape
    if padding > 0:
        padded = torch.nn.functional.pad(x, (padding,) * 4, mode="reflect")
        offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=generator).tolist()
        x = torch.stack([padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offsets)])
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
    epochs, batch_size : int
        Fixed training length (our choice, see the module docstring).
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
        Reflection padding before the random 32 x 32 crop (ours: 4; 0 disables cropping).
    hflip : bool
        Random horizontal flips (paper: on).
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seed of weights, data order, augmentation and latent noise.
    """

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
        epochs: int = 15,
        batch_size: int = 64,
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
        self.epochs = epochs
        self.batch_size = batch_size
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
    def _check_params(self, X: np.ndarray) -> None:
        if X.shape[2:] != (32, 32):
            raise ValueError(f"{type(self).__name__} needs 3 x 32 x 32 images; got {X.shape[1:]}")
        if X.shape[0] < 2:
            raise ValueError("at least two training images are needed")
        for name in ("epochs", "batch_size", "latent_dim"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be at least 2; got {self.batch_size}")
        if len(self.channels) != 3 or any(int(c) < 1 for c in self.channels):
            raise ValueError(f"channels must be three positive integers; got {self.channels!r}")
        if not (self.lr > 0 and 0 <= self.adam_beta1 < 1):
            raise ValueError(f"need lr > 0 and 0 <= adam_beta1 < 1; got lr={self.lr}, adam_beta1={self.adam_beta1}")
        for name in ("w_i", "w_a", "w_z", "w_e", "w_d", "k", "mi_beta", "kl_gamma"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
        if not (isinstance(self.crop_padding, (int, np.integer)) and 0 <= self.crop_padding < 32):
            raise ValueError(f"crop_padding must be an integer in [0, 31]; got {self.crop_padding!r}")

    def _build(self, pixel_mean, pixel_std) -> None:
        channels = tuple(int(c) for c in self.channels)
        latent = int(self.latent_dim)
        variational = bool(self.use_latent_regularizer)
        self.generator_ = AutoEncoder(latent, channels, variational, pixel_mean, pixel_std).to(self.device_)
        self.auxiliary_ = (
            AutoEncoder(latent, channels, False, pixel_mean, pixel_std).to(self.device_) if self.use_dual else None
        )
        self.discriminator_ = Discriminator(channels).to(self.device_) if self.use_discriminator else None
        self.mi_estimator_ = MIEstimator(latent, channels[1]).to(self.device_) if variational else None

    def _networks(self) -> list[torch.nn.Module]:
        nets = (self.generator_, self.auxiliary_, self.discriminator_, self.mi_estimator_)
        return [net for net in nets if net is not None]

    def _adam(self, *nets: torch.nn.Module) -> torch.optim.Adam:
        params = [p for net in nets for p in net.parameters()]
        return torch.optim.Adam(params, lr=self.lr, betas=(self.adam_beta1, 0.999))

    # --------------------------------------------------------------- training
    def _fit(self, X: np.ndarray) -> None:
        self._check_params(X)
        generator = seed_everything(self.random_state)
        self.device_ = resolve_device(self.device)
        self.preprocessor_ = ImagePreprocessor(scaling="standard").fit(X)
        self._build(self.preprocessor_.shift_, self.preprocessor_.scale_)
        data = torch.from_numpy(self.preprocessor_.transform(X)).to(self.device_)

        opt_g = self._adam(*(net for net in (self.generator_, self.mi_estimator_) if net is not None))
        opt_d = self._adam(self.discriminator_) if self.discriminator_ is not None else None
        opt_dp = self._adam(self.auxiliary_) if self.auxiliary_ is not None else None
        for net in self._networks():
            net.train()

        self.history_ = []
        for epoch in range(1, int(self.epochs) + 1):
            start = time.perf_counter()
            sums = dict.fromkeys(_HISTORY_KEYS, 0.0)
            seen = 0
            for idx in minibatches(data.shape[0], int(self.batch_size), generator):
                if idx.numel() < 2:
                    continue
                x = augment(data[idx.to(self.device_)], int(self.crop_padding), bool(self.hflip), generator)
                terms = self._train_step(x, generator, opt_g, opt_d, opt_dp, epoch)
                for key, value in terms.items():
                    sums[key] += value * x.shape[0]
                seen += x.shape[0]
            record = {"epoch": epoch}
            record.update({key: (sums[key] / seen if self._active(key) else math.nan) for key in _HISTORY_KEYS})
            record["time_s"] = time.perf_counter() - start
            self.history_.append(record)
        for net in self._networks():
            net.eval()

    def _active(self, key: str) -> bool:
        """Whether a history column belongs to a part that this variant builds."""
        if key in ("loss_d", "adv"):
            return self.use_discriminator
        if key in ("loss_dprime", "zrec", "dual_real", "dual_fake"):
            return self.use_dual
        if key in ("mi_estimate", "kl", "mi_local"):
            return self.use_latent_regularizer
        return True

    def _train_step(self, x, generator, opt_g, opt_d, opt_dp, epoch: int) -> dict[str, float]:
        G, D, Dp, T = self.generator_, self.discriminator_, self.auxiliary_, self.mi_estimator_
        terms: dict[str, float] = {}

        # 0. One generator pass; z is sampled when the encoder is variational.
        noise = None
        if T is not None:
            noise = torch.randn(x.shape[0], int(self.latent_dim), generator=generator).to(self.device_)
        recon, enc, z = G(x, noise)
        fake = recon.detach()

        # 1. D step: real x vs. detached G(x).
        if D is not None:
            loss_d = losses.discriminator_loss(D(x), D(fake))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            terms["loss_d"] = check_finite(loss_d.detach(), "discriminator D", epoch)

        # 2. D' step: reconstruct x well and the detached G(x) badly (eq. 5-6).
        if Dp is not None:
            real_error = losses.image_l1(x, Dp(x)[0])
            fake_error = losses.image_l1(fake, Dp(fake)[0])
            loss_dp = losses.dual_loss(real_error, fake_error, float(self.k))
            opt_dp.zero_grad(set_to_none=True)
            loss_dp.backward()
            opt_dp.step()
            terms["loss_dprime"] = check_finite(loss_dp.detach(), "auxiliary autoencoder D'", epoch)
            terms["dual_real"], terms["dual_fake"] = float(real_error.detach()), float(fake_error.detach())

        # 3. G (+ T) step, with D and D' frozen.
        frozen = [net for net in (D, Dp) if net is not None]
        for net in frozen:
            net.requires_grad_(False)
        irec = losses.image_l1(x, recon)
        loss_g = self.w_i * irec
        terms["irec"] = float(irec.detach())
        if D is not None:
            adv = losses.generator_adversarial_loss(D(recon))
            loss_g = loss_g + self.w_a * adv
            terms["adv"] = float(adv.detach())
        if Dp is not None:
            aux_recon, aux_enc, _ = Dp(recon)
            zrec = losses.latent_loss(enc.mean, aux_enc.mean)
            loss_g = loss_g + self.w_z * zrec + self.w_d * losses.image_l1(recon, aux_recon)
            terms["zrec"] = float(zrec.detach())
        if T is not None:
            mi_global = losses.js_mi_loss(
                T.global_logits(enc.middle, z), T.global_logits(enc.middle, torch.roll(z, 1, dims=0))
            )
            mi_local = losses.js_mi_loss(
                T.local_logits(enc.middle, z), T.local_logits(torch.roll(enc.middle, 1, dims=0), z)
            )
            kl = losses.kl_standard_normal(enc.mean, enc.logvar)
            loss_e = self.mi_beta * (mi_global + mi_local) + self.kl_gamma * kl
            loss_g = loss_g + self.w_e * loss_e
            terms["mi_estimate"] = losses.LOG4 - float(mi_global.detach())
            terms["mi_local"] = losses.LOG4 - float(mi_local.detach())
            terms["kl"] = float(kl.detach())
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for net in frozen:
            net.requires_grad_(True)
        terms["loss_g"] = check_finite(loss_g.detach(), "generator G", epoch)
        return terms

    # ---------------------------------------------------------------- scoring
    def _standardized(self, X: np.ndarray) -> torch.Tensor:
        if X.shape[2:] != (32, 32):
            raise ValueError(f"{type(self).__name__} needs 3 x 32 x 32 images; got {X.shape[1:]}")
        return torch.from_numpy(self.preprocessor_.transform(X)).to(self.device_)

    def _reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``D'(G(x))`` (or ``G(x)`` without D'), encoders on their means."""
        recon = self.generator_(x)[0]
        return self.auxiliary_(recon)[0] if self.auxiliary_ is not None else recon

    def _score(self, X: np.ndarray) -> np.ndarray:
        x = self._standardized(X)
        scores = batched_apply(lambda batch: losses.per_image_l1(batch, self._reconstruct(batch)), x)
        return scores.cpu().numpy()

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
