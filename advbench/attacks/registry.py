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
    Check,
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
        import foolbox

        from advbench.attacks.backends import from_blended_noise

        attack = foolbox.attacks.BoundaryAttack(
            steps=params["steps"],
            spherical_step=params["spherical_step"],
            source_step=params["source_step"],
            source_step_convergance=params["source_step_convergance"],
            step_adaptation=params["step_adaptation"],
            update_stats_every_k=params["update_stats_every_k"],
        )
        return from_blended_noise(model, attack, params["init_directions"], params["init_steps"])


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
    stop signs against the default victim (VictimNet width 16, 3x32x32) and on a small MNIST CNN
    (1x28x28), 10,000 steps give the same median L2 within 1% at 3 to 14 times the time per image
    (``docs/protocols.md``, "Attacks", gives the measurement).

    ``quantized_decision`` true: C&W stops just past the decision boundary, and without it rounding
    to 8 bits undoes 29 of those 32 stop signs (11 of 32 MNIST digits); attacking the victim behind
    the rounding layer keeps all 32. The early abort watches the batch's
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


#: The library of the attacks only torchattacks ships (foolbox 3 has neither JSMA nor Square).
TORCHATTACKS_ONLY = Param(
    "torchattacks", "foolbox 3 does not ship it; torchattacks is an optional extra", one_of("torchattacks")
)


@register
class JSMA(Attack):
    """Jacobian-based saliency map attack (L0): raises by ``theta`` the pair of features (pixel
    channels) that most raises a target class's logit and lowers the others', pair after pair, until
    the victim predicts the target or a share ``gamma`` of the features has changed.

    ``theta`` 1.0 and ``gamma`` 0.1: Feinman et al. 2017's settings
    (``rfeinman/detecting-adversarial-samples scripts/craft_adv_samples.py``), Papernot et al.
    2016's increasing attack, torchattacks' defaults. As Feinman et al. run it, each image aims at a
    target class drawn uniformly from the other classes (seeded); it counts as a success, as every
    attack does, when the 8-bit image is misclassified, whatever the class. torchattacks' own
    untargeted mode aims at ``(label + 1) % 10``, which assumes 10 classes. At most
    ``floor(n * gamma / 2)`` pairs change (``backends.jsma_class``; torchattacks rounds up), so no
    image changes more than ``gamma`` of its features; with ``theta`` 1 a changed feature becomes 1.0,
    which 8-bit rounding keeps. The saliency map is torchattacks' pick, computed in fewer operations
    (its cost grows with the square of the number of features and with ``gamma``). torchattacks
    attacks one image at a time, each with its own target, so ``batch_size`` is left out of the
    name. ``gamma`` is the budget.
    """

    name = "jsma"
    description = "Jacobian saliency map attack (Papernot et al. 2016), L0, random target, via torchattacks"
    label = "JSMA"
    budget = "gamma"
    linf = {"theta": "step size"}
    unnamed = ("batch_size",)
    params = {
        "theta": Param(1.0, "Feinman et al. 2017; torchattacks' default", POSITIVE),
        "gamma": Param(
            0.1,
            "Feinman et al. 2017; torchattacks' default",
            Check(lambda value: 0 < value <= 1, "must be in (0, 1]"),
        ),
        "backend": TORCHATTACKS_ONLY,
        "batch_size": batch_size(64),
    }

    def foolbox(self, model, params):
        raise NotImplementedError("foolbox 3 has no JSMA")

    def torchattacks(self, model, params):
        from advbench.attacks.backends import jsma_class

        return jsma_class()(model, theta=params["theta"], gamma=params["gamma"])


@register
class Square(Attack):
    """Square attack (L-inf, score-based black box): random search over square-shaped updates at the
    corners of the ``eps`` ball, kept when they lower the margin of the true class.

    ``eps`` 8/255 (as BIM and PGD), ``n_queries`` 5000, ``p_init`` 0.8 (the share of pixels the
    first squares cover), one restart, the margin loss: torchattacks' defaults, AutoAttack's
    settings of the attack (Andriushchenko et al. 2020 use the margin loss and 10,000 queries).
    torchattacks reseeds torch before each batch with its ``seed``; this entry draws that seed per
    batch from the run's seeded generator. Each iteration draws one square for the whole batch, and
    the search stops when the batch is fooled, so ``batch_size`` changes the images and is part of
    the name. At a budget of whole 8-bit levels (``k/255``) every pixel stays on the 8-bit grid
    (clean +- eps, or clipped), so rounding changes nothing; at another budget (MNIST's 0.3 is 76.5
    levels) rounding may take a pixel half a level past it, as for FGSM, BIM and PGD.
    """

    name = "square"
    description = "Square attack (Andriushchenko et al. 2020), L-inf score-based black box, via torchattacks"
    label = "Square"
    budget = "eps"
    linf = {"eps": "budget"}
    params = {
        "eps": Param(8 / 255, "as BIM and PGD; torchattacks' default", POSITIVE),
        "n_queries": Param(5000, "torchattacks' default (Andriushchenko et al. 2020: 10,000)", POSITIVE),
        "p_init": Param(
            0.8, "torchattacks' and AutoAttack's default", Check(lambda value: 0 < value <= 1, "must be in (0, 1]")
        ),
        "n_restarts": Param(1, "torchattacks' default", POSITIVE),
        "loss": Param("margin", "Andriushchenko et al. 2020; torchattacks' default", one_of("margin", "ce")),
        "backend": TORCHATTACKS_ONLY,
        "batch_size": batch_size(256),
    }

    def foolbox(self, model, params):
        raise NotImplementedError("foolbox 3 has no Square attack")

    def torchattacks(self, model, params):
        import torch
        import torchattacks

        attack = torchattacks.Square(
            model,
            norm="Linf",
            eps=params["eps"],
            n_queries=params["n_queries"],
            n_restarts=params["n_restarts"],
            p_init=params["p_init"],
            loss=params["loss"],
        )

        def run(x, y):
            attack.seed = int(torch.randint(2**31 - 1, ()).item())  # from the run's seed
            return attack(x, y)

        return run


@register
class HopSkipJump(Attack):
    """Decision-based: from an adversarial start, estimates the boundary's normal from the victim's
    decisions on random points around a boundary point, steps along it and bisects back to the
    boundary, minimizing the L2 or L-inf distance.

    foolbox's ``HopSkipJumpAttack`` at its defaults, those of Chen, Jordan and Wainwright 2020:
    ``steps`` 64, gradient estimates from 100 queries growing with the square root of the step up
    to 10,000, ``gamma`` 1 (binary search threshold), geometric step-size search; ``norm`` l2 or
    linf (foolbox's ``constraint``). Starting points as Boundary's (``init_directions`` 1000,
    ``init_steps`` 50); an image for which none is found comes back unchanged, i.e. counts as a
    failed attempt. Its queries grow with the steps to the power 1.5; foolbox's 64 steps stay
    (measured cost in ``docs/protocols.md``).

    ``past_rounding`` true: the attack ends just past the boundary of the float victim, and 8-bit
    rounding undid all 8 of those stop signs. Attacking the victim behind the rounding layer (as
    ``quantized_decision`` does for Boundary, DeepFool and C&W) does not suit it: its gradient
    estimates probe the victim far below one 8-bit level, where the rounded victim mostly answers
    the same (on the tests' tiny victim, a median L2 of 14.5 against 6.0 at 10 steps). So it attacks
    the float victim, then moves each result along the ray from its clean image (``t`` 1 + j/32 up
    to 2, then 6 halvings; ``backends.rounded_past_boundary``) to the first point whose 8-bit image
    fools the victim, and returns that image: all 8 kept, at most 39 more decisions per batch. The
    random directions are drawn per batch and the searches run until the whole batch is done, so
    ``batch_size`` changes the images and is part of the name. ``steps`` is the budget, as
    Boundary's.
    """

    name = "hopskipjump"
    description = "HopSkipJump (Chen et al. 2020), decision-based, minimal L2 or L-inf, via foolbox 3"
    label = "HopSkipJump"
    budget = "steps"
    params = {
        "steps": Param(64, "foolbox's default; Chen et al. 2020", POSITIVE),
        "initial_gradient_eval_steps": Param(100, "foolbox's default; Chen et al. 2020", POSITIVE),
        "max_gradient_eval_steps": Param(10000, "foolbox's default; Chen et al. 2020", POSITIVE),
        "gamma": Param(1.0, "foolbox's default; Chen et al. 2020", POSITIVE),
        "stepsize_search": Param(
            "geometric_progression",
            "foolbox's default; Chen et al. 2020",
            one_of("geometric_progression", "grid_search"),
        ),
        "norm": Param("l2", "foolbox's default constraint; linf also offered", one_of("l2", "linf")),
        "init_directions": Param(1000, "as Boundary's (foolbox's default)", POSITIVE),
        "init_steps": Param(50, "as Boundary's (foolbox's default for HopSkipJump)", POSITIVE),
        "past_rounding": Param(True, "ours: its results then survive the 8-bit rounding of every stored image"),
        "batch_size": batch_size(32),
    }

    def foolbox(self, model, params):
        import foolbox

        from advbench.attacks.backends import from_blended_noise, rounded_past_boundary

        attack = foolbox.attacks.HopSkipJumpAttack(
            steps=params["steps"],
            initial_gradient_eval_steps=params["initial_gradient_eval_steps"],
            max_gradient_eval_steps=params["max_gradient_eval_steps"],
            stepsize_search=params["stepsize_search"],
            gamma=params["gamma"],
            constraint=params["norm"],
        )
        run = from_blended_noise(model, attack, params["init_directions"], params["init_steps"])
        if not params["past_rounding"]:
            return run

        def past_rounding(x, y):
            return rounded_past_boundary(model, x, run(x, y), y)

        return past_rounding
