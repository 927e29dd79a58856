"""advbench: can a detector trained only on clean images of a class spot adversarial ones?

The package builds the GTSRB stop-sign benchmark (``advbench.datasets``, ``advbench.attacks``),
trains one-class detectors on clean images (``advbench.detectors``) and writes AUC tables
(``advbench.reports``). The command line lives in ``advbench.cli``; the Python API (``load``,
``evaluate``) in ``advbench.api``, imported on first use of either name so that ``import advbench``
stays light.
"""

__version__ = "0.2.0"

_API = ("evaluate", "load")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from advbench import api

        return getattr(api, name)
    raise AttributeError(f"module 'advbench' has no attribute {name!r}")
