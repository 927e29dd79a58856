"""The paper's dual-adversarial detector: ``networks`` (torch modules), ``losses`` (loss terms),
``detector`` (the estimator with its training loop and scoring)."""

from advbench.detectors.dual_adversarial.detector import DualAdversarialDetector

__all__ = ["DualAdversarialDetector"]
