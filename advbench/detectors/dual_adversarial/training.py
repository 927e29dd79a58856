"""One training step of the dual-adversarial detector, the gradient shares of eq. (1), the stopping rule.

``TrainStep`` holds the networks and optimizers of one fit and runs the per-batch updates in the
order its docstring gives; ``TrainStep.measure`` adds, on the batches it is asked to, the
norm of the gradient that each weighted term of eq. (1) sends into G's parameters (one extra
backward per term). ``flattened`` is the reference profile's stopping rule.
"""

from __future__ import annotations

import math

import torch

from advbench.detectors.dual_adversarial import losses
from advbench.torch_utils import check_finite

#: Loss columns of ``history_`` (epoch means; ``k`` is the dual-loss factor used, BEGAN's ``k_t`` when adapted).
LOSS_KEYS = (
    "loss_g",
    "loss_d",
    "loss_dprime",
    "mi_estimate",
    "irec",
    "adv",
    "zrec",
    "dual_real",
    "dual_fake",
    "kl",
    "mi_local",
    "k",
)
#: The weighted terms of eq. (1) in G's loss, by history suffix -> weight parameter.
GRAD_TERMS = {"irec": "w_i", "adv": "w_a", "zrec": "w_z", "dual": "w_d", "e": "w_e"}
#: Gradient-norm columns of ``history_``: one per term of eq. (1), and the norm of their sum.
GRAD_KEYS = tuple(f"grad_{term}" for term in GRAD_TERMS) + ("grad_total",)


def gradient_norm(loss: torch.Tensor, params: list[torch.Tensor]) -> float:
    """Euclidean norm of ``d loss / d params`` (parameters that ``loss`` does not reach count as 0)."""
    grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    return math.sqrt(sum(float(g.pow(2).sum()) for g in grads if g is not None))


def flattened(values: list[float], window: int, tolerance: float) -> bool:
    """The reference profile's stopping rule, fixed before any AUC was seen.

    True when the mean of the last ``window`` values is above ``(1 - tolerance)`` times the mean
    of the ``window`` values before them: the loss fell by less than ``tolerance`` (relative)
    over the last window. False while fewer than ``2 * window`` values exist or ``window`` is 0.
    """
    if window < 1 or len(values) < 2 * window:
        return False
    last = sum(values[-window:]) / window
    before = sum(values[-2 * window : -window]) / window
    return last > (1.0 - tolerance) * before


def began_balance(k: float, real_error: float, fake_error: float, det, pixels: int) -> float:
    """BEGAN's proportional control of ``k_t`` (Berthelot et al., 2017, eq. 4 and section 3.4).

    ``k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(x))), 0, 1)`` with ``L(x) = ||x - D'(x)||_1``
    and ``L(G(x)) = ||G(x) - D'(G(x))||_1`` (eq. 5 of the dual paper) of the current batch.
    BEGAN's losses are per-pixel means, and its ``lambda_k = 0.001`` is sized for them, so both
    errors are taken per pixel whatever the detector's ``reduction``.
    """
    if det.reduction == "sum":
        real_error, fake_error = real_error / pixels, fake_error / pixels
    return min(max(k + det.began_lambda * (det.began_gamma * real_error - fake_error), 0.0), 1.0)


class TrainStep:
    """The per-batch updates of D, D' and G (+ T) for one fitted detector, in this order (``x`` is the
    augmented, standardized batch):

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
    """

    def __init__(self, detector, adam):
        self.det = detector
        #: The dual-loss factor of eq. (6): fixed at ``k``, or BEGAN's ``k_t`` (``k_update="began"``).
        self.k = float(detector.k)
        self.G, self.D = detector.generator_, detector.discriminator_
        self.Dp, self.T = detector.auxiliary_, detector.mi_estimator_
        self.opt_g = adam(*(net for net in (self.G, self.T) if net is not None))
        self.opt_d = adam(self.D) if self.D is not None else None
        self.opt_dp = adam(self.Dp) if self.Dp is not None else None

    def optimizers(self) -> list[torch.optim.Optimizer]:
        """The optimizers of this fit, G's first (the learning-rate schedules step them all)."""
        return [opt for opt in (self.opt_g, self.opt_d, self.opt_dp) if opt is not None]

    def __call__(self, x: torch.Tensor, generator: torch.Generator, epoch: int, measure: bool) -> dict[str, float]:
        det, G, D, Dp, T = self.det, self.G, self.D, self.Dp, self.T
        reduction = det.reduction
        terms: dict[str, float] = {}

        # 0. One generator pass; z is sampled when the encoder is variational.
        noise = None
        if T is not None and det.latent_sampling:
            noise = torch.randn(x.shape[0], int(det.latent_dim), generator=generator).to(x.device)
        recon, enc, z = G(x, noise)
        fake = recon.detach()

        # 1. D step: real x vs. detached G(x).
        if D is not None:
            loss_d = losses.discriminator_loss(D(x), D(fake))
            self._step(self.opt_d, loss_d)
            terms["loss_d"] = check_finite(loss_d.detach(), "discriminator D", epoch)

        # 2. D' step: reconstruct x well and the detached G(x) badly (eq. 5-6); optionally L_zrec.
        if Dp is not None:
            real_error = losses.image_l1(x, Dp(x)[0], reduction)
            fake_recon, fake_enc, _ = Dp(fake)
            fake_error = losses.image_l1(fake, fake_recon, reduction)
            loss_dp = losses.dual_loss(real_error, fake_error, self.k)
            if det.zrec_trains_auxiliary:
                loss_dp = loss_dp + det.w_z * losses.latent_loss(enc.mean.detach(), fake_enc.mean, reduction)
            self._step(self.opt_dp, loss_dp)
            terms["loss_dprime"] = check_finite(loss_dp.detach(), "auxiliary autoencoder D'", epoch)
            terms["dual_real"], terms["dual_fake"] = float(real_error.detach()), float(fake_error.detach())
            terms["k"] = self.k
            if det.k_update == "began":
                self.k = began_balance(self.k, terms["dual_real"], terms["dual_fake"], det, x[0].numel())

        # 3. G (+ T) step, with D and D' frozen.
        frozen = [net for net in (D, Dp) if net is not None]
        for net in frozen:
            net.requires_grad_(False)
        parts = {"irec": losses.image_l1(x, recon, reduction)}
        if D is not None:
            parts["adv"] = losses.generator_adversarial_loss(D(recon))
        if Dp is not None:
            aux_recon, aux_enc, _ = Dp(recon)
            parts["zrec"] = losses.latent_loss(enc.mean, aux_enc.mean, reduction)
            parts["dual"] = losses.image_l1(recon, aux_recon, reduction)
        if T is not None:
            mi_global = losses.js_mi_loss(
                T.global_logits(enc.middle, z), T.global_logits(enc.middle, torch.roll(z, 1, dims=0))
            )
            mi_local = losses.js_mi_loss(
                T.local_logits(enc.middle, z), T.local_logits(torch.roll(enc.middle, 1, dims=0), z)
            )
            kl = losses.kl_standard_normal(enc.mean, enc.logvar, reduction)
            parts["e"] = det.mi_beta * (mi_global + mi_local) + det.kl_gamma * kl
            terms["mi_estimate"] = losses.LOG4 - float(mi_global.detach())
            terms["mi_local"] = losses.LOG4 - float(mi_local.detach())
            terms["kl"] = float(kl.detach())
        weighted = {name: getattr(det, GRAD_TERMS[name]) * value for name, value in parts.items()}
        loss_g = sum(weighted.values())
        if measure:
            params = list(G.parameters())
            terms.update({f"grad_{name}": gradient_norm(value, params) for name, value in weighted.items()})
            terms["grad_total"] = gradient_norm(loss_g, params)
        self._step(self.opt_g, loss_g)
        for net in frozen:
            net.requires_grad_(True)
        terms.update({name: float(parts[name].detach()) for name in ("irec", "adv", "zrec") if name in parts})
        terms["loss_g"] = check_finite(loss_g.detach(), "generator G", epoch)
        return terms

    @staticmethod
    def _step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
