"""Adversarial attacks on the victim classifier: FGSM, BIM, DeepFool (torchattacks), Boundary (foolbox)."""

#: Attack names in table order, with a one-line description each (for ``advbench list``).
DESCRIPTIONS: dict[str, str] = {
    "boundary": "Boundary attack (Brendel et al. 2018), decision-based, via foolbox 3",
    "fgsm": "Fast gradient sign method (Goodfellow et al. 2014), via torchattacks",
    "bim": "Basic iterative method (Kurakin et al. 2016), via torchattacks",
    "deepfool": "DeepFool (Moosavi-Dezfooli et al. 2016), minimal L2, via torchattacks",
}
