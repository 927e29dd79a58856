"""advbench: can a detector trained only on clean images of a class spot adversarial ones?

The package builds the GTSRB stop-sign benchmark (``advbench.datasets``, ``advbench.attacks``),
trains one-class detectors on clean images (``advbench.detectors``) and writes AUC tables
(``advbench.reports``). The command line lives in ``advbench.cli``.
"""

__version__ = "0.1.0"
