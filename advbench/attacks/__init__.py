"""Adversarial attacks on the victim classifier: Boundary, FGSM, BIM, DeepFool, PGD (foolbox; FGSM, BIM and DeepFool also on torchattacks)."""

#: Attack names in table order, with a one-line description each (for ``advbench list``).
DESCRIPTIONS: dict[str, str] = {
    "boundary": "Boundary attack (Brendel et al. 2018), decision-based, via foolbox 3",
    "fgsm": "Fast gradient sign method (Goodfellow et al. 2014), via foolbox 3 (backend=torchattacks optional)",
    "bim": "Basic iterative method (Kurakin et al. 2016), via foolbox 3 (backend=torchattacks optional)",
    "deepfool": "DeepFool (Moosavi-Dezfooli et al. 2016), minimal L2, via foolbox 3 (backend=torchattacks optional)",
    "pgd": "Projected gradient descent, L-inf, random start (Madry et al. 2018), via foolbox 3",
}

#: The attacks of the paper's Table 4: what ``generate-attacks`` builds unless ``--attacks`` says otherwise.
DEFAULT_ATTACKS: tuple[str, ...] = ("boundary", "fgsm", "bim", "deepfool")

#: The family recorded for detector-aware PGD sets (``pgd-adaptive-<detector>@...``, ``attacks.adaptive``).
ADAPTIVE_FAMILY = "pgd-adaptive"
