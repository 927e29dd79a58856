"""Names of score variants: several anomaly scores that one fitted detector gives (``BaseDetector.score_variants``).

A detector's own score, the one ``decision_function`` returns and the tables report under the
detector's name, is the variant ``DEFAULT_VARIANT`` (``"paper"``). Every other variant of a
detector gets rows of its own in ``results.jsonl`` and the tables, named ``<detector>[<variant>]``
(``variant_name``; ``split_variant`` reverses it), and its scores live in the detector's scores
file (``advbench.runs.results``). Variant names are lowercase words joined by single hyphens
(``VARIANT_NAME``), so a row name is never ambiguous.

This module imports nothing, so the run folder's code (``advbench.runs``) and the reports can use
the names without importing the detectors.
"""

from __future__ import annotations

import re

#: The name of a detector's own score (``decision_function``) among its score variants.
DEFAULT_VARIANT = "paper"
#: What a score variant's name may be: lowercase letters and digits, words joined by single hyphens.
VARIANT_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def variant_name(detector: str, variant: str) -> str:
    """The name of a score variant's rows: ``detector`` for ``DEFAULT_VARIANT``, else ``detector[variant]``."""
    return detector if variant == DEFAULT_VARIANT else f"{detector}[{variant}]"


def split_variant(name: str) -> tuple[str, str]:
    """``(detector, variant)`` of a row name (``variant_name`` reversed): ``"dual-adversarial[g]"`` ->
    ``("dual-adversarial", "g")``, ``"ocsvm"`` -> ``("ocsvm", DEFAULT_VARIANT)``."""
    if name.endswith("]") and "[" in name:
        detector, _, variant = name[:-1].rpartition("[")
        if detector and VARIANT_NAME.fullmatch(variant):
            return detector, variant
    return name, DEFAULT_VARIANT


def without_variants(names: list[str]) -> list[str]:
    """The detectors' own rows among row names (no ``<detector>[<variant>]``), in their order."""
    return [name for name in names if split_variant(name)[1] == DEFAULT_VARIANT]
