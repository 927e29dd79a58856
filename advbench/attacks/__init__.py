"""Adversarial attacks on the victim classifier (via foolbox 3, some also via torchattacks): the
entries of ``advbench.attacks.registry``, and what other modules read of them."""

from advbench.attacks.registry import ATTACKS

#: Attack names in table order, with a one-line description each (for ``advbench list``).
DESCRIPTIONS: dict[str, str] = {name: attack.description for name, attack in ATTACKS.items()}

#: The attacks of the paper's Table 4: what ``generate-attacks`` builds unless ``--attacks`` says otherwise.
DEFAULT_ATTACKS: tuple[str, ...] = tuple(name for name, attack in ATTACKS.items() if attack.run_by_default)

#: The family recorded for detector-aware PGD sets (``pgd-adaptive-<detector>@...``, ``attacks.adaptive``).
ADAPTIVE_FAMILY = "pgd-adaptive"

#: How detector-aware PGD weighs the detector's score (``attacks.adaptive``): ``fool-first`` (the
#: default) or ``joint``.
ADAPTIVE_OBJECTIVES: tuple[str, ...] = ("fool-first", "joint")

#: The lambda grid of detector-aware PGD: 0 (the plain attack) and four decades. The score is standardized, so lambda
#: 1 weighs one standard deviation of the training scores like one nat of cross-entropy; the
#: attack's own criterion, not a detector's AUC, set the largest weight (docs/protocols.md says how).
DEFAULT_LAMBDAS: tuple[float, ...] = (0.0, 0.1, 1.0, 10.0, 100.0)
