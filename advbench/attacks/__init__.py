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
