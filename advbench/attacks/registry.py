"""The attacks: one entry each, and the only place that lists them.

An entry (a subclass of ``advbench.attacks.entry.Attack``, registered with ``@register``) holds
everything about one attack: name, description, table label, budget parameter, parameters with
their defaults, sources and checks, and the library call per backend. Its docstring gives the
reasons for its defaults. An entry's ``linf`` names its parameters that are L-inf distances on
images in [0, 1] (``linf_params``): a value above 1 is refused where variants are resolved
(``variants.resolve_variants``). The registration order is the order of ``advbench list``, of the attack
sets in a file and of table columns. ``runners`` resolves and runs the entries, ``variants``
names them, ``reports.tables`` labels them.

To add an attack, add an entry here (and a test); nothing else lists attacks.
"""

from __future__ import annotations

from advbench.attacks.entry import (
    BACKEND,
    NON_NEGATIVE,
    POSITIVE,
    QUANTIZED_DECISION,
    Attack,
    Param,
    batch_size,
    one_of,
)

#: name -> entry, in registration order.
ATTACKS: dict[str, Attack] = {}


def register(cls: type[Attack]) -> type[Attack]:
    """Add the entry ``cls`` to ``ATTACKS``; TypeError when it does not hold together."""
    attack = cls()
    problems = []
    if cls.name in ATTACKS:
        problems.append("registered twice")
    if attack.budget not in attack.params:
        problems.append(f"budget {attack.budget!r} is not a parameter")
    if not set(attack.unnamed) <= set(attack.params):
        problems.append(f"unnamed {attack.unnamed} are not all parameters")
    if ("backend" in attack.params) != hasattr(attack, "torchattacks"):
        problems.append("a backend parameter needs a torchattacks method, and the reverse")
    if any(param.derive and param.default is not None for param in attack.params.values()):
        problems.append("a derived parameter's default must be None")
    if not set(attack.linf) <= set(attack.params):
        problems.append(f"linf {list(attack.linf)} are not all parameters")
    if problems:
        raise TypeError(f"attack {cls.name!r}: {'; '.join(problems)}")
    ATTACKS[cls.name] = attack
    return cls


def linf_params(family: str, params: dict) -> dict[str, str]:
    """The parameters of ``family`` that are L-inf distances (name -> what it is: budget, step size)
    under its resolved ``params``: the entry's ``linf``, none when its ``norm`` is another."""
    if params.get("norm", "linf") != "linf":
        return {}
    return dict(ATTACKS[family].linf)


def _quarter_eps(params: dict) -> float:
    return params["eps"] / 4


@register
class Boundary(Attack):
    """Decision-based: walks along the decision boundary from an adversarial start towards the image.

    foolbox's step sizes (``spherical_step`` and ``source_step`` 0.01, ``step_adaptation`` 1.5);
    ``steps`` 5000 instead of foolbox's 25,000 so that 270 images take a few minutes on a CPU. The
    attack converges slowly: on the first 30 test stop signs the median L2 distance is 8.6 after
    1000 steps and 5.6 after 5000 (pixels in [0, 1]): Boundary images stay the most perturbed of
    the four attacks. Starting points come from foolbox's ``LinearSearchBlendedUniformNoiseAttack``
    (``init_directions`` 1000 random noise images, ``init_steps`` 50 blending steps, as
    BoundaryAttack uses by default); an image for which that finds no start comes back unchanged,
    i.e. counts as a failed attempt. With ``quantized_decision`` (default true) the attack queries
    the victim on 8-bit rounded inputs, i.e. the classifier as it sees image files: its results
    then stay adversarial after they are stored as 8-bit images instead of falling back across the
    boundary they sit on. foolbox's Boundary attack adapts its step sizes per batch, so
    ``batch_size`` changes the images and is part of the name.
    """

    name = "boundary"
    description = "Boundary attack (Brendel et al. 2018), decision-based, via foolbox 3"
    label = "Boundary"
    budget = "steps"
    run_by_default = True
    params = {
        "steps": Param(5000, "ours (foolbox: 25,000): a few CPU minutes for 270 images", POSITIVE),
        "spherical_step": Param(0.01, "foolbox's default", POSITIVE),
        "source_step": Param(0.01, "foolbox's default", POSITIVE),
        "source_step_convergance": Param(1e-7, "foolbox's default (and spelling)", NON_NEGATIVE),
        "step_adaptation": Param(1.5, "foolbox's default"),
        "update_stats_every_k": Param(10, "foolbox's default"),
        "init_directions": Param(1000, "foolbox's default for BoundaryAttack's starting points", POSITIVE),
        "init_steps": Param(50, "foolbox's default for BoundaryAttack's starting points", POSITIVE),
        "quantized_decision": QUANTIZED_DECISION,
        "batch_size": batch_size(300),
    }

    def foolbox(self, model, params):
        def run(x, y):
            """foolbox's BoundaryAttack on one batch; rows without a starting point come back unchanged."""
            import foolbox
            import torch

            fmodel = foolbox.PyTorchModel(model, bounds=(0, 1), device=x.device)
            criterion = foolbox.criteria.Misclassification(y)
            init = foolbox.attacks.LinearSearchBlendedUniformNoiseAttack(
                directions=params["init_directions"], steps=params["init_steps"]
            )
            starts = init.run(fmodel, x, criterion)
            with torch.no_grad():
                ok = model(starts).argmax(1) != y
            out = x.clone()
            if ok.any():
                attack = foolbox.attacks.BoundaryAttack(
                    steps=params["steps"],
                    spherical_step=params["spherical_step"],
                    source_step=params["source_step"],
                    source_step_convergance=params["source_step_convergance"],
                    step_adaptation=params["step_adaptation"],
                    update_stats_every_k=params["update_stats_every_k"],
                )
                _, clipped, _ = attack(
                    fmodel, x[ok], foolbox.criteria.Misclassification(y[ok]), epsilons=None, starting_points=starts[ok]
                )
                out[ok] = clipped
            return out

        return run


@register
class FGSM(Attack):
    """One signed-gradient step of size ``eps`` (L-inf).

    ``eps`` 12/255: the usual L-inf budget for 32x32 images, 8/255 (torchattacks' default), fools
    the default victim on only 95 of the 270 test stop signs (35%), too few for a test set; 12/255
    fools it on 166 (62%). The one-step attack needs the larger budget; BIM keeps 8/255. On the
    same victim and inputs both backends agree to 1e-6 and give the same 8-bit images (the tests
    check it). Each image is attacked on its own, so ``batch_size`` is left out of the name.
    """

    name = "fgsm"
    description = "Fast gradient sign method (Goodfellow et al. 2014), via foolbox 3 (backend=torchattacks optional)"
    label = "FGSM"
    budget = "eps"
    linf = {"eps": "budget"}
    run_by_default = True
    unnamed = ("batch_size",)
    params = {
        "eps": Param(12 / 255, "ours: 8/255 (torchattacks) fools 35% of the stop signs, 12/255 62%", POSITIVE),
        "backend": BACKEND,
        "batch_size": batch_size(256),
    }

    def foolbox(self, model, params):
        import foolbox

        from advbench.attacks.backends import foolbox_batch

        return foolbox_batch(model, foolbox.attacks.FGSM(random_start=False), params["eps"])

    def torchattacks(self, model, params):
        import torchattacks

        return torchattacks.FGSM(model, eps=params["eps"])


@register
class BIM(Attack):
    """FGSM iterated: ``steps`` signed-gradient steps of ``alpha``, projected onto the ``eps`` L-inf ball.

    ``eps`` 8/255, ``alpha`` 2/255, ``steps`` 10: torchattacks' defaults, given to foolbox's
    ``LinfBasicIterativeAttack`` as ``abs_stepsize`` with no random start (Kurakin et al. use
    min(eps + 4, 1.25 eps) steps, which is 10 at eps 8). Unless it is given, ``alpha`` is
    ``eps / 4``: 2/255 at the default budget, and at any budget the 10 steps can travel 2.5 eps,
    so a budget sweep (``bim@eps=64/255``) measures the budget and not a step size that cannot
    reach it (with a fixed 2/255, 10 steps end at 20/255 whatever the budget). Both backends agree
    to 1e-6 and give the same 8-bit images. Each image is attacked on its own, so ``batch_size``
    is left out of the name.
    """

    name = "bim"
    description = "Basic iterative method (Kurakin et al. 2016), via foolbox 3 (backend=torchattacks optional)"
    label = "BIM"
    budget = "eps"
    linf = {"eps": "budget", "alpha": "step size"}
    run_by_default = True
    unnamed = ("batch_size",)
    params = {
        "eps": Param(8 / 255, "torchattacks' default", POSITIVE),
        "alpha": Param(None, "eps / 4 (ours; torchattacks' 2/255 at the default eps)", POSITIVE, _quarter_eps),
        "steps": Param(10, "torchattacks' default; Kurakin et al.'s min(eps + 4, 1.25 eps) at eps 8/255", POSITIVE),
        "backend": BACKEND,
        "batch_size": batch_size(256),
    }

    def foolbox(self, model, params):
        import foolbox

        from advbench.attacks.backends import foolbox_batch

        attack = foolbox.attacks.LinfBasicIterativeAttack(
            abs_stepsize=params["alpha"], steps=params["steps"], random_start=False
        )
        return foolbox_batch(model, attack, params["eps"])

    def torchattacks(self, model, params):
        import torchattacks

        return torchattacks.BIM(model, eps=params["eps"], alpha=params["alpha"], steps=params["steps"])


@register
class DeepFool(Attack):
    """Minimal L2 steps to the nearest linearized decision boundary, every class a candidate.

    ``steps`` 50, ``overshoot`` 0.02 (Moosavi-Dezfooli et al., foolbox's and torchattacks'
    defaults), every class a candidate (foolbox with ``candidates=None``), ``quantized_decision``
    true: DeepFool stops just past the decision boundary, where rounding to 8 bits would undo most
    of its results; attacking the victim behind an 8-bit rounding layer (gradient passed straight
    through) makes it step on until the rounded image is misclassified. The backends differ in
    detail: foolbox adds up the steps and applies the overshoot to the total, torchattacks applies
    it at every step, so the two give close but not identical images. With torchattacks, the
    Jacobian is computed in one batched backward pass instead of one per class
    (``backends.deepfool_class``), which gives the same values faster. Each image is attacked on
    its own, so ``batch_size`` is left out of the name.
    """

    name = "deepfool"
    description = "DeepFool (Moosavi-Dezfooli et al. 2016), minimal L2, via foolbox 3 (backend=torchattacks optional)"
    label = "DeepFool"
    budget = "overshoot"
    run_by_default = True
    unnamed = ("batch_size",)
    params = {
        "steps": Param(50, "Moosavi-Dezfooli et al. 2016; foolbox's and torchattacks' default", POSITIVE),
        "overshoot": Param(0.02, "Moosavi-Dezfooli et al. 2016; foolbox's and torchattacks' default", NON_NEGATIVE),
        "quantized_decision": QUANTIZED_DECISION,
        "backend": BACKEND,
        "batch_size": batch_size(256),
    }

    def foolbox(self, model, params):
        import foolbox

        from advbench.attacks.backends import foolbox_batch

        attack = foolbox.attacks.L2DeepFoolAttack(steps=params["steps"], candidates=None, overshoot=params["overshoot"])
        return foolbox_batch(model, attack, None)

    def torchattacks(self, model, params):
        from advbench.attacks.backends import deepfool_class

        return deepfool_class()(model, steps=params["steps"], overshoot=params["overshoot"])


@register
class PGD(Attack):
    """BIM from a uniform random point of the ``eps`` ball, as Madry et al. (2018) define it.

    ``eps`` 8/255, ``alpha`` eps/4 (as BIM), ``steps`` 10, ``norm`` linf (foolbox's
    ``LinfProjectedGradientDescentAttack``) or ``l2`` (``L2ProjectedGradientDescentAttack``,
    where ``eps`` is an L2 radius), ``random_start`` true. The budget and steps match BIM's so that
    the two compare, and the plain attack is what the detector-aware attack (``adaptive.py``)
    extends. The random start is drawn per batch from the seeded generator, so ``batch_size`` is
    part of the attack's name when it is not the default.
    """

    name = "pgd"
    description = "Projected gradient descent, L-inf, random start (Madry et al. 2018), via foolbox 3"
    label = "PGD"
    budget = "eps"
    linf = {"eps": "budget", "alpha": "step size"}  # with norm=linf; with l2 they are L2 distances
    params = {
        "eps": Param(8 / 255, "as BIM", POSITIVE),
        "alpha": Param(None, "eps / 4, as BIM", POSITIVE, _quarter_eps),
        "steps": Param(10, "as BIM", POSITIVE),
        "norm": Param("linf", "Madry et al. 2018 (L-inf); l2 also offered", one_of("linf", "l2")),
        "random_start": Param(True, "Madry et al. 2018"),
        "batch_size": batch_size(256),
    }

    def foolbox(self, model, params):
        from advbench.attacks.backends import foolbox_batch, pgd_class

        attack = pgd_class(params)(
            abs_stepsize=params["alpha"], steps=params["steps"], random_start=params["random_start"]
        )
        return foolbox_batch(model, attack, params["eps"])


@register
class CarliniWagner(Attack):
    """Carlini and Wagner's L2 attack: the smallest L2 perturbation, found by Adam in tanh space,
    whose logit margin over the true class is at least ``confidence`` (kappa).

    foolbox's ``L2CarliniWagnerAttack`` with the paper's settings, which are foolbox's defaults,
    except ``steps``: 9 binary search steps over the constant that weighs the margin against the
    distance, starting at 1e-3, Adam with step 0.01, ``confidence`` 0, early abort when the batch's
    loss gains less than 0.01% over a tenth of the steps. ``steps`` is 1000, not 10,000: on 32 test
    stop signs against the default victim (VictimNet width 16, 3x32x32), on 2 CPU cores shared with
    another job (load 4 to 6), 10,000 steps took 125 s per image against 8.8 s for 1000 (the early
    abort rarely fires) for a median L2 of 0.588 against 0.594; on a small MNIST CNN (1x28x28), 9.3
    against 2.9 s per image for a median L2 of 1.546 against 1.546. The 270 stop signs take about
    40 minutes at 1000 steps and 9 hours at 10,000.

    ``quantized_decision`` true: C&W stops just past the decision boundary, and rounding to 8
    bits undid 29 of those 32 stop signs without it (11 of 32 MNIST digits); attacking the
    victim behind the rounding layer, all 32 were kept. The early abort watches the batch's
    summed loss, so ``batch_size`` changes the images and is part of the name. ``confidence`` is
    the budget: a larger margin buys perturbations that survive more at a larger L2. foolbox
    returns zeros for an image it never made adversarial; this entry returns the image
    unchanged instead, so the 8-bit re-check counts it as a failure rather than keeping a black
    image that happens to be misclassified.
    """

    name = "cw"
    description = "Carlini-Wagner L2 (Carlini and Wagner 2017), minimal L2 with a confidence margin, via foolbox 3"
    label = "C&W"
    budget = "confidence"
    params = {
        "binary_search_steps": Param(9, "Carlini and Wagner 2017; foolbox's default", POSITIVE),
        "steps": Param(
            1000, "ours (paper, foolbox: 10,000): 8.8 s, not 125 s, per stop sign on a CPU; 1% more L2", POSITIVE
        ),
        "stepsize": Param(0.01, "Carlini and Wagner 2017 (Adam's learning rate); foolbox's default", POSITIVE),
        "confidence": Param(0.0, "Carlini and Wagner 2017 (kappa); foolbox's default", NON_NEGATIVE),
        "initial_const": Param(1e-3, "Carlini and Wagner 2017; foolbox's default", POSITIVE),
        "abort_early": Param(True, "Carlini and Wagner 2017; foolbox's default"),
        "quantized_decision": QUANTIZED_DECISION,
        "batch_size": batch_size(256),
    }

    def foolbox(self, model, params):
        import foolbox

        from advbench.attacks.backends import foolbox_batch

        library_params = ("binary_search_steps", "steps", "stepsize", "confidence", "initial_const", "abort_early")
        run = foolbox_batch(
            model, foolbox.attacks.L2CarliniWagnerAttack(**{key: params[key] for key in library_params}), None
        )

        def unchanged_where_not_found(x, y):
            adversarial = run(x, y)
            missed = ~adversarial.flatten(1).any(dim=1)  # foolbox's zeros: no adversarial found
            adversarial[missed] = x[missed]
            return adversarial

        return unchanged_where_not_found
